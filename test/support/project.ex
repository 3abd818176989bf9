defmodule Batamanta.Test.Project do
  @moduledoc """
  Small Mix projects written by a test into a temporary directory, built with
  `mix batamanta` and run the way a user would, with HOME, the XDG dirs, the binaries'
  cache and TMPDIR all private to the project, so no test reads or writes the
  developer's own.
  """

  @root Path.expand("../..", __DIR__)

  @doc "The batamanta dependency for a test project's `deps`."
  def batamanta_dep, do: ~s({:batamanta, path: #{inspect(@root)}, runtime: false})

  @doc "A new directory for one test module's projects, removed when the module is done."
  def scratch(prefix) do
    parent = Path.join(System.tmp_dir!(), "#{prefix}-#{System.unique_integer([:positive])}")
    File.mkdir_p!(parent)
    ExUnit.Callbacks.on_exit(fn -> File.rm_rf!(parent) end)
    parent
  end

  @doc """
  Writes `files` (relative path => contents) into a new directory under `parent` and
  returns the project's directory with its private home around it.
  """
  def write(parent, name, files) do
    dir = Path.join(parent, name)
    File.rm_rf!(dir)

    for {path, contents} <- files do
      file = Path.join([dir, "project", path])
      File.mkdir_p!(Path.dirname(file))
      File.write!(file, contents)
    end

    for sub <- ~w(home cache state binaries tmp), do: File.mkdir_p!(Path.join(dir, sub))
    Path.join(dir, "project")
  end

  @doc "The isolated environment of the project at `project`, plus `extra`."
  def env(project, extra \\ []) do
    base = Path.dirname(project)

    [
      {"MIX_ENV", nil},
      {"SOURCE_DATE_EPOCH", "1700000000"},
      {"HOME", Path.join(base, "home")},
      {"XDG_CACHE_HOME", Path.join(base, "cache")},
      {"XDG_STATE_HOME", Path.join(base, "state")},
      {"BATAMANTA_CACHE_DIR", Path.join(base, "binaries")},
      {"TMPDIR", Path.join(base, "tmp")},
      {"LANG", "C.UTF-8"}
    ] ++ extra
  end

  @doc "Runs `mix args...` in `dir` (the project or one of its apps); `{output, status}`."
  def mix(dir, project, args, extra_env \\ []) do
    System.cmd(System.find_executable("mix"), args,
      cd: dir,
      env: env(project, extra_env),
      stderr_to_stdout: true
    )
  end

  @doc "Runs a built binary with the project's environment; `{output, status}`."
  def run(project, binary, args \\ [], extra_env \\ []) do
    System.cmd("timeout", ["120", binary | args],
      env: env(project, extra_env),
      stderr_to_stdout: true
    )
  end

  @doc "A `mix.exs` for app `app` with `project` keyword source and `application` source."
  def mix_exs(module, project, application) do
    """
    defmodule #{module}.MixProject do
      use Mix.Project

      def project do
        #{project}
      end

      def application do
        #{application}
      end
    end
    """
  end

  @doc """
  Kills (SIGKILL) every process whose executable lies under `dir`: what a daemon test
  leaves behind, epmd included, which the VM starts and which outlives it.
  """
  def kill_processes_under(dir) do
    for entry <- File.ls!("/proc"),
        entry =~ ~r/^\d+$/,
        {:ok, exe} <- [File.read_link("/proc/#{entry}/exe")],
        String.starts_with?(exe, dir) do
      System.cmd("kill", ["-9", entry])
    end
  end
end
