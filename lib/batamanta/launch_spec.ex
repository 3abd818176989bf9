defmodule Batamanta.LaunchSpec do
  @moduledoc """
  The metadata records that tell the dispenser how to start the payload (see the
  "Metadata" section of `docs/FORMAT.md`).

  For a release in CLI mode it reproduces what `bin/app start` does, minus the shell
  scripts: `erlexec` directly, the release's environment variables, and the boot
  script from `Batamanta.BootScript`, so the binary's own arguments reach
  `System.argv/0` verbatim after `-extra --no-halt --`.
  """

  alias Batamanta.{Config, ERTS, Staged, Target}

  @type record :: {String.t(), String.t()}

  # :tui starts the VM exactly as :cli does; only its dispenser differs (raw mode).
  # :daemon (releases only) adds a node name and the ready signal, see daemon_args/2.
  @supported [release: :cli, release: :tui, release: :daemon, escript: :cli, escript: :tui]

  @doc """
  Builds the ordered `{key, value}` metadata for the `staged` tree, whose runtime needs
  `libc` (see `libc/1`) and the system libraries `needs`.
  """
  @spec build(Config.t(), Staged.t(), Target.t(), ERTS.t(), String.t(), [String.t()]) ::
          {:ok, [record]} | {:error, String.t()}
  def build(%Config{} = config, staged, target, erts, libc, needs) do
    with :ok <- supported(config) do
      {:ok,
       describe(config, staged, target, erts, libc) ++
         erlexec(config, staged, needs, start(config, staged))}
    end
  end

  @doc """
  Whether a launch spec can be built for the config's format and mode, checked before
  any work is done.
  """
  @spec supported(Config.t()) :: :ok | {:error, String.t()}
  def supported(%Config{format: format, execution_mode: mode}) do
    if {format, mode} in @supported do
      :ok
    else
      {:error,
       "format #{inspect(format)} with execution_mode #{inspect(mode)} cannot be built yet; " <>
         "this version of batamanta builds " <> supported_text()}
    end
  end

  defp supported_text do
    @supported
    |> Enum.group_by(&elem(&1, 0), &elem(&1, 1))
    |> Enum.map_join("; ", fn {format, modes} ->
      {last, first} = modes |> Enum.map(&inspect/1) |> List.pop_at(-1)
      modes = if first == [], do: last, else: Enum.join(first, ", ") <> " or " <> last
      "format: #{inspect(format)} with execution_mode: #{modes}"
    end)
  end

  defp start(%Config{format: :release} = config, release) do
    vsn_dir = "releases/#{release.version}"
    runtime_config? = runtime_config?(Path.join([release.path, vsn_dir, "sys.config"]))
    config_path = if runtime_config?, do: "${CONFIG}", else: "${ROOT}/#{vsn_dir}/sys"

    %{
      env:
        env(config, release) ++
          sys_config_env(runtime_config?, config_path) ++
          env_defaults(release, vsn_dir, code_loading(config), distribution(config)),
      args: args(vsn_dir, config_path, code_loading(config), daemon_args(config)),
      files:
        if(runtime_config?, do: [{"runtime_config", "#{vsn_dir}/sys"}], else: []) ++
          if(custom_env_script?(Path.join([release.path, vsn_dir, "env.sh"])),
            do: [{"env_script", "#{vsn_dir}/env.sh"}],
            else: []
          )
    }
  end

  # An escript starts as the `escript` program starts it (`+B -boot no_dot_erlang
  # -noshell`, the script's `%%!` arguments, `-run escript start -extra SCRIPT`), with
  # the boot file given by absolute path so a file in the working directory cannot
  # shadow it. The applications shipped beside the escript go on the code path.
  defp start(%Config{format: :escript}, staged) do
    %{
      env: [{"env_default", "ERL_CRASH_DUMP_SECONDS=0"}],
      args:
        ["+B", "-boot", "${ROOT}/bin/#{staged.boot}", "-noshell"] ++
          Enum.flat_map(staged.code_paths, &["-pa", "${ROOT}/#{&1}"]) ++
          staged.emu_args ++ ["-run", "escript", "start", "-extra", "${ROOT}/#{staged.script}"],
      files: []
    }
  end

  # Both formats run erlexec with the variables it reads itself, so a format's own
  # environment comes after them.
  defp erlexec(config, staged, needs, %{env: env, args: args, files: files}) do
    [{"exec", "erts-#{staged.erts_version}/bin/erlexec"}] ++
      Enum.map(
        [
          "ROOTDIR=${ROOT}",
          "BINDIR=${ROOT}/erts-#{staged.erts_version}/bin",
          "EMU=beam",
          "PROGNAME=#{config.binary_name}"
        ],
        &{"env", &1}
      ) ++
      env ++
      Enum.map(["-elixir", "ansi_enabled", "true"], &{"tty_arg", &1}) ++
      Enum.map(args, &{"arg", &1}) ++
      files ++
      Enum.map(needs, &{"needs", &1})
  end

  @batamanta_version Mix.Project.config()[:version]

  defp describe(config, staged, target, erts, libc) do
    [{"batamanta", @batamanta_version}, {"app", to_string(config.app)}] ++
      release_record(config) ++
      [
        {"version", staged.version},
        {"format", to_string(config.format)},
        {"mode", to_string(config.execution_mode)},
        {"target", target.triple},
        {"erts_version", staged.erts_version},
        {"otp_version", erts.otp_version},
        {"libc", libc}
      ]
  end

  defp release_record(%Config{format: :release, release: name}), do: [{"release", name}]
  defp release_record(%Config{}), do: []

  defp env(config, release) do
    [
      {"RELEASE_ROOT", "${ROOT}"},
      {"RELEASE_NAME", release.name},
      {"RELEASE_VSN", release.version},
      {"RELEASE_COMMAND", "start"},
      {"RELEASE_PROG", config.binary_name}
    ]
    |> Enum.map(fn {name, value} -> {"env", "#{name}=#{value}"} end)
  end

  # Config.Provider finds sys.config through RELEASE_SYS_CONFIG; like the release
  # script, a runtime config always points it at the per-run copy.
  defp sys_config_env(true, config_path), do: [{"env", "RELEASE_SYS_CONFIG=#{config_path}"}]

  defp sys_config_env(false, config_path),
    do: [{"env_default", "RELEASE_SYS_CONFIG=#{config_path}"}]

  # A program people start by hand pays for every module `-mode embedded` preloads:
  # loading on demand halves hello_cli's start (0.54 s -> 0.22 s of CPU here), so CLIs
  # and TUIs run interactive; a daemon keeps the release default and preloads.
  defp code_loading(%Config{execution_mode: :daemon}), do: "embedded"
  defp code_loading(%Config{}), do: "interactive"

  # A CLI must not leave erl_crash.dump files in the user's working directory.
  defp env_defaults(release, vsn_dir, code_loading, distribution) do
    [
      {"RELEASE_MODE", code_loading},
      {"RELEASE_NODE", release.name},
      {"RELEASE_TMP", "${ROOT}/tmp"},
      {"RELEASE_VM_ARGS", "${ROOT}/#{vsn_dir}/vm.args"},
      {"RELEASE_REMOTE_VM_ARGS", "${ROOT}/#{vsn_dir}/remote.vm.args"},
      {"RELEASE_DISTRIBUTION", distribution},
      {"RELEASE_BOOT_SCRIPT", "batamanta"},
      {"RELEASE_BOOT_SCRIPT_CLEAN", "start_clean"},
      {"ERL_CRASH_DUMP_SECONDS", "0"}
    ]
    |> Enum.map(fn {name, value} -> {"env_default", "#{name}=#{value}"} end)
  end

  defp args(vsn_dir, config_path, code_loading, mode_args) do
    ["-noshell", "-mode", code_loading, "-config", config_path] ++
      ["-boot", "${ROOT}/#{vsn_dir}/batamanta"] ++
      ["-boot_var", "RELEASE_LIB", "${ROOT}/lib"] ++
      ["-args_file", "${ROOT}/#{vsn_dir}/vm.args"] ++
      mode_args ++
      ~w(-extra --no-halt --)
  end

  # The daemon is a named node so the release's own `remote` and `rpc` reach it. Its
  # name is only a default: the daemon dispenser settles RELEASE_NODE and
  # RELEASE_DISTRIBUTION from the environment and env.sh, as `bin/app` does, and passes
  # `-sname`/`-name` itself, because the node also names its state files.
  defp distribution(%Config{execution_mode: :daemon}), do: "sname"
  defp distribution(%Config{}), do: "none"

  # No cookie on the command line, where every local user can read it: the node boots
  # with the user's own ~/.erlang.cookie (Erlang's default, owner-only), and once boot
  # has finished this `-eval` switches to the cookie the dispenser passes in
  # RELEASE_COOKIE and drops it from the app's environment. It then checks that every
  # application the release starts is running (one that failed at boot may be temporary),
  # and checks again 1 s later: an application whose processes crash right after boot (a
  # listener hitting eaddrinuse) is gone by then, while the VM itself may take seconds
  # more to go down. Only then does it write the ready file the dispenser waits for, with
  # the OS pid, so a file left by an earlier run never counts. A failed check halts with
  # status 1.
  @daemon_ready """
  case os:getenv("RELEASE_COOKIE") of false -> ok; Cookie -> \
  erlang:set_cookie(node(), list_to_atom(Cookie)), os:unsetenv("RELEASE_COOKIE") end, \
  case os:getenv("BATAMANTA_READY_FILE") of false -> ok; Ready -> \
  os:unsetenv("BATAMANTA_READY_FILE"), \
  {ok, [{release, _, _, Apps}]} = file:consult(filename:join([os:getenv("RELEASE_ROOT"), \
  "releases", os:getenv("RELEASE_VSN"), os:getenv("RELEASE_NAME") ++ ".rel"])), \
  Started = [element(1, App) || App <- Apps, not lists:member(load, tuple_to_list(App)), \
  not lists:member(none, tuple_to_list(App))], \
  Check = fun(Wait) -> timer:sleep(Wait), \
  case catch Started -- [Name || {Name, _, _} <- application:which_applications(5000)] of \
  [] -> ok; \
  Missing -> io:format(standard_error, "batamanta: not running: ~p~n", [Missing]), \
  erlang:halt(1) end end, \
  Check(0), \
  spawn(fun() -> Check(1000), ok = file:write_file(Ready, os:getpid()) end) end.\
  """

  defp daemon_args(%Config{execution_mode: :daemon}), do: ["-eval", @daemon_ready]
  defp daemon_args(%Config{}), do: []

  @doc "Whether the release's sys.config asks for runtime configuration."
  @spec runtime_config?(Path.t()) :: boolean()
  def runtime_config?(sys_config) do
    case File.read(sys_config) do
      {:ok, contents} -> String.contains?(contents, "RUNTIME_CONFIG=true")
      {:error, _} -> false
    end
  end

  @doc "Whether env.sh does anything, that is, has a line that is neither blank nor a comment."
  @spec custom_env_script?(Path.t()) :: boolean()
  def custom_env_script?(env_sh) do
    case File.read(env_sh) do
      {:ok, contents} ->
        contents
        |> String.split("\n")
        |> Enum.map(&String.trim/1)
        |> Enum.any?(&(&1 != "" and not String.starts_with?(&1, "#")))

      {:error, _} ->
        false
    end
  end

  @doc "Formats the helper's `:libc_requirement` result as the `libc` record value."
  @spec libc(map()) :: String.t()
  def libc(%{libc: "gnu", version: version}) when is_binary(version), do: "gnu #{version}"
  def libc(%{libc: libc}), do: to_string(libc)
end
