defmodule Batamanta.Test.Example do
  @moduledoc """
  Builds one of `examples/` with `mix batamanta` the way a user would: in its own
  directory, with the caller's MIX_ENV cleared, a fixed SOURCE_DATE_EPOCH and a private
  TMPDIR, so a test can also check that the build leaves no temporary files behind.
  HOME, XDG_CACHE_HOME, XDG_STATE_HOME and BATAMANTA_CACHE_DIR come from the run's
  private root (test_helper.exs), never the user's; `env` may narrow them further.
  """

  @examples Path.expand("../../examples", __DIR__)

  @doc "The directory of `examples/<name>`."
  def path(name), do: Path.join(@examples, name)

  @doc "Runs `mix batamanta args...` in `examples/<name>`; returns `{output, status}`."
  def build(name, args, tmp, env \\ []) do
    File.mkdir_p!(tmp)
    env = [{"MIX_ENV", nil}, {"SOURCE_DATE_EPOCH", "1700000000"}, {"TMPDIR", tmp} | env]
    mix = System.find_executable("mix")
    System.cmd(mix, ["batamanta" | args], cd: path(name), env: env, stderr_to_stdout: true)
  end
end
