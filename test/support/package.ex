defmodule Batamanta.Test.Package do
  @moduledoc """
  Runs `scripts/package` of a batamanta checkout, as a release would, into a directory.
  """

  @checkout Path.expand("../..", __DIR__)

  @doc "This checkout."
  def checkout, do: @checkout

  @doc """
  Runs `scripts/package dest` in `checkout`; returns its output, or raises. Every
  checkout uses this one's aarch64 sysroot, which `scripts/install-deps` fetched.
  """
  def build!(dest, checkout \\ @checkout) do
    sysroot = Batamanta.Dispenser.Cross.sysroot()

    {output, status} =
      System.cmd(Path.join(checkout, "scripts/package"), [dest],
        env: [{"MIX_ENV", nil}, {"BATAMANTA_AARCH64_SYSROOT", sysroot}],
        stderr_to_stdout: true
      )

    if status != 0, do: raise("scripts/package #{dest} in #{checkout} failed:\n#{output}")
    output
  end

  @doc "The artifacts' MANIFEST of a package directory."
  def manifest(dir), do: File.read!(Path.join(dir, "priv/native/MANIFEST"))
end
