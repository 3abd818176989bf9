defmodule Batamanta.Test.Package do
  @moduledoc """
  Runs `scripts/package` of a batamanta checkout, as a release would, into a directory.
  """

  @checkout Path.expand("../..", __DIR__)

  @doc "This checkout."
  def checkout, do: @checkout

  @doc "Runs `scripts/package dest` in `checkout`; returns its output, or fails the test."
  def build!(dest, checkout \\ @checkout) do
    {output, status} =
      System.cmd(Path.join(checkout, "scripts/package"), [dest],
        env: [{"MIX_ENV", nil}],
        stderr_to_stdout: true
      )

    if status != 0, do: raise("scripts/package #{dest} in #{checkout} failed:\n#{output}")
    output
  end

  @doc "The artifacts' MANIFEST of a package directory."
  def manifest(dir), do: File.read!(Path.join(dir, "priv/native/MANIFEST"))
end
