defmodule Batamanta.DaemonOperationsE2ETest do
  # The daemon as ops run it (issue 12): one project with two releases built as daemons,
  # whose state never collides, whose failed boot is reported as a failure, whose nodes
  # are named as `mix release` names them and form a cluster, which runs attached under
  # a supervisor and with an empty environment, and which describes itself.
  use ExUnit.Case, async: false

  alias Batamanta.Test.Project

  @moduletag :e2e
  @moduletag timeout: 900_000

  @offline [{"BATAMANTA_HEX_OTP_URL", "http://127.0.0.1:1/otp"}]

  setup_all do
    parent = Project.scratch("batamanta-daemon-ops")

    project =
      Project.write(parent, "ops", %{
        "mix.exs" =>
          Project.mix_exs(
            "Ops",
            """
            [
              app: :ops,
              version: "0.1.0",
              deps: [#{Project.batamanta_dep()}],
              releases: [alpha: [], beta: []],
              batamanta: [execution_mode: :daemon, compression: 1, show_banner: false]
            ]
            """,
            "[extra_applications: [:logger], mod: {Ops.Application, []}]"
          ),
        # As in `mix release`: env.sh may name the node.
        "rel/env.sh.eex" => """
        if [ -n "$OPS_ENV_NODE" ]; then export RELEASE_NODE="$OPS_ENV_NODE"; fi
        """,
        "lib/ops/application.ex" => """
        defmodule Ops.Application do
          use Application

          def start(_type, _args) do
            IO.puts("ops \#{System.get_env("RELEASE_NAME")} up as \#{node()}")

            case System.get_env("OPS_FAIL") do
              "start" -> {:error, :refused_to_start}
              _ -> Supervisor.start_link([Ops.Listener], strategy: :one_for_one)
            end
          end

          def stop(_state) do
            with path when is_binary(path) <- System.get_env("OPS_STOP_MARKER") do
              File.write!(path, "stopped\\n")
            end
          end
        end
        """,
        # Listens after init, as a web server's acceptors do: a port in use crashes it
        # once the application has started.
        "lib/ops/listener.ex" => """
        defmodule Ops.Listener do
          use GenServer

          def start_link(_), do: GenServer.start_link(__MODULE__, nil)
          def init(nil), do: {:ok, nil, {:continue, :listen}}

          def handle_continue(:listen, nil) do
            case System.get_env("OPS_PORT") do
              nil -> {:noreply, nil}
              port ->
                {:ok, socket} = :gen_tcp.listen(String.to_integer(port), ip: {127, 0, 0, 1})
                {:noreply, socket}
            end
          end
        end
        """
      })

    for release <- ~w(alpha beta) do
      {output, status} =
        Project.mix(project, project, ~w(batamanta --release #{release}), @offline)

      assert status == 0, "mix batamanta --release #{release} failed:\n#{output}"
    end

    on_exit(fn -> Project.kill_processes_under(Path.dirname(project)) end)
    {:ok, host} = :inet.gethostname()
    %{project: project, host: to_string(host)}
  end

  setup context do
    id = System.unique_integer([:positive])
    state = Path.join([Path.dirname(context.project), "state", "t#{id}"])
    marker = Path.join(Path.dirname(context.project), "stopped-#{id}")
    env = [{"XDG_STATE_HOME", state}, {"OPS_STOP_MARKER", marker}]
    %{env: env, state: Path.join(state, "batamanta"), marker: marker}
  end

  defp binary(context, release),
    do: Path.join(context.project, "#{release}-0.1.0-x86_64-linux")

  defp bin(context, release, args, extra \\ []) do
    on_exit(fn ->
      Project.run(
        context.project,
        binary(context, release),
        ~w(stop --timeout 5),
        context.env ++ extra
      )
    end)

    Project.run(context.project, binary(context, release), args, context.env ++ extra)
  end

  defp started!(output) do
    [_, pid] = Regex.run(~r/^started \S+ \(pid (\d+)\), log: \//m, output)
    String.to_integer(pid)
  end

  test "two releases' daemons run at once, each with its own pid file, lock, log and node",
       context do
    # Any cookie Erlang takes will do, not only the 40 hex digits batamanta writes.
    File.mkdir_p!(Path.join(context.state, "alpha"))
    File.chmod!(Path.join(context.state, "alpha"), 0o700)
    File.write!(Path.join([context.state, "alpha", "cookie"]), "Short_Cookie-1\n")

    assert {output, 0} = bin(context, "alpha", ["start"])
    alpha = started!(output)
    assert {output, 0} = bin(context, "beta", ["start"])
    beta = started!(output)
    assert alpha != beta

    for {release, pid} <- [{"alpha", alpha}, {"beta", beta}] do
      dir = Path.join(context.state, release)
      assert File.read!(Path.join(dir, "#{release}.pid")) =~ ~r/^#{pid}\n/
      assert File.exists?(Path.join(dir, "#{release}.lock"))
      assert File.read!(Path.join(dir, "#{release}.log")) =~ "ops #{release} up as #{release}@"
      assert {"#{pid}\n", 0} == bin(context, release, ["pid"])
      assert {node, 0} = bin(context, release, ["rpc", "IO.puts(Node.self())"])
      assert node =~ ~r/^#{release}@/
    end

    assert {"alpha 0.1.0\n", 0} = bin(context, "alpha", ["version"])
    assert {_, 0} = bin(context, "alpha", ["stop"])
    assert {_, 3} = bin(context, "alpha", ["status"])
    assert {_, 0} = bin(context, "beta", ["status"])

    assert {output, 0} = bin(context, "beta", ["restart", "--timeout", "20"])
    assert started!(output) != beta
    assert output =~ "stopped beta (pid #{beta})"
  end

  test "a daemon whose boot fails exits 1 with the end of its log", context do
    assert {output, 1} = bin(context, "alpha", ["start"], [{"OPS_FAIL", "start"}])
    assert output =~ "exited before its boot finished"
    assert output =~ "refused_to_start"
    assert {_, 3} = bin(context, "alpha", ["status"])

    # The port is taken: the application starts, then its listener crashes for good.
    {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(socket)
    assert {output, 1} = bin(context, "alpha", ["start"], [{"OPS_PORT", to_string(port)}])
    assert output =~ "eaddrinuse"
    assert output =~ "end of its log"
    assert {_, 3} = bin(context, "alpha", ["status"])
    :gen_tcp.close(socket)
  end

  test "two instances of one release, named by RELEASE_NODE and env.sh, form a cluster",
       context do
    cookie = [{"RELEASE_COOKIE", "shared-#{System.unique_integer([:positive])}"}]
    a = [{"RELEASE_NODE", "a"} | cookie]
    b = [{"OPS_ENV_NODE", "b"} | cookie]

    assert {output, 0} = bin(context, "alpha", ["start"], a)
    assert output =~ "started a (pid"
    assert {output, 0} = bin(context, "alpha", ["start"], b)
    assert output =~ "started b (pid"
    assert File.exists?(Path.join([context.state, "alpha", "a.pid"]))
    assert File.exists?(Path.join([context.state, "alpha", "b.pid"]))
    assert {_, 3} = bin(context, "alpha", ["status"])

    assert {"true\n", 0} =
             bin(context, "alpha", ["rpc", ~s|IO.puts(Node.connect(:"b@#{context.host}"))|], a)

    assert {"a@#{context.host}\n", 0} ==
             bin(context, "alpha", ["rpc", ~s|IO.puts(Enum.join(Node.list(), ","))|], b)

    assert {output, 1} = bin(context, "alpha", ["status"], [{"RELEASE_DISTRIBUTION", "long"}])
    assert output =~ "RELEASE_DISTRIBUTION must be sname, name or none"
  end

  test "foreground stays attached, logs to stdout, and stops on SIGTERM with status 0",
       context do
    env =
      for {name, value} <- Project.env(context.project, context.env),
          do: {~c"#{name}", if(value, do: ~c"#{value}", else: false)}

    port =
      Port.open({:spawn_executable, binary(context, "alpha")}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        args: ["foreground"],
        env: env
      ])

    {:os_pid, pid} = Port.info(port, :os_pid)
    assert receive_output(port, "ops alpha up as alpha@") =~ "up as"
    assert {"#{pid}\n", 0} == bin(context, "alpha", ["pid"])
    System.cmd("kill", ["-TERM", to_string(pid)])

    assert_receive {^port, {:exit_status, 0}}, 30_000
    assert File.read!(context.marker) == "stopped\n"
    assert {_, 3} = bin(context, "alpha", ["status"])
  end

  defp receive_output(port, text, seen \\ "") do
    receive do
      {^port, {:data, data}} ->
        seen = seen <> data
        if seen =~ text, do: seen, else: receive_output(port, text, seen)

      {^port, {:exit_status, status}} ->
        flunk("foreground exited with #{status}:\n#{seen}")
    after
      60_000 -> flunk("no #{inspect(text)} in 60 s:\n#{seen}")
    end
  end

  test "start with an empty environment (env -i): HOME falls back to the state dir",
       context do
    tmp = Path.join(Path.dirname(context.project), "envi-#{System.unique_integer([:positive])}")
    File.mkdir_p!(tmp)

    run = fn args ->
      System.cmd("env", ["-i", "TMPDIR=#{tmp}", binary(context, "alpha") | args],
        stderr_to_stdout: true
      )
    end

    on_exit(fn -> run.(~w(stop --timeout 5)) end)

    assert {output, 0} = run.(["start"])
    assert output =~ "started alpha"
    state = Path.join(tmp, "batamanta-state-#{uid()}/alpha")
    assert {home, 0} = run.(["rpc", ~s|IO.puts(System.get_env("HOME"))|])
    assert String.trim(home) == state
    assert {_, 0} = run.(["stop"])
  end

  defp uid do
    {id, 0} = System.cmd("id", ["-u"])
    String.trim(id)
  end

  test "BATAMANTA_MAINTENANCE describes and removes the binary's extraction", context do
    maintenance = fn value ->
      bin(context, "beta", ["these", "args", "are", "ignored"], [{"BATAMANTA_MAINTENANCE", value}])
    end

    assert {path, 0} = maintenance.("path")
    path = String.trim(path)
    assert path =~ ~r"/binaries/ops-0\.1\.0-[0-9a-f]{16}$"

    assert {_, 0} = bin(context, "beta", ["start"])
    assert {info, 0} = maintenance.("info")
    assert info =~ ~r/^batamanta\s+#{Regex.escape(Mix.Project.config()[:version])}$/m
    assert info =~ ~r/^release\s+beta$/m
    assert info =~ ~r/^mode\s+daemon$/m
    assert info =~ ~r/^hash\s+[0-9a-f]{64}$/m
    assert info =~ "extraction  #{path} (extracted, in use)"

    assert {output, 1} = maintenance.("uninstall")
    assert output =~ "in use"
    assert File.exists?(path)

    assert {_, 0} = bin(context, "beta", ["stop"])
    assert {info, 0} = maintenance.("info")
    assert info =~ "(extracted, not in use)"
    assert {output, 0} = maintenance.("uninstall")
    assert output =~ "removed the extractions of ops"
    refute File.exists?(path)
    assert {info, 0} = maintenance.("info")
    assert info =~ "(not extracted)"

    assert {output, 64} = maintenance.("frobnicate")
    assert output =~ "BATAMANTA_MAINTENANCE must be info, path or uninstall"
  end

  test "README's systemd units for foreground and start pass systemd-analyze verify",
       context do
    readme = File.read!(Path.expand("../README.md", __DIR__))
    units = Regex.scan(~r/```ini\n(\[Unit\].*?)```/s, readme, capture: :all_but_first)
    assert [[exec], [forking]] = units
    assert exec =~ "Type=exec" and exec =~ " foreground"
    assert forking =~ "Type=forking" and forking =~ "PIDFile="

    dir = Path.join(Path.dirname(context.project), "units-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)

    for {unit, name} <- [{exec, "ops-exec.service"}, {forking, "ops-forking.service"}] do
      path = Path.join(dir, name)
      File.write!(path, String.replace(unit, "/opt/hello/hello_daemon", binary(context, "alpha")))
      assert {output, 0} = System.cmd("systemd-analyze", ["verify", path], stderr_to_stdout: true)
      refute output =~ name, output
    end
  end
end
