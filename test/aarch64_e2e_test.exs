defmodule Batamanta.Aarch64E2ETest do
  # Builds the examples for ubuntu_22_04_arm64 on this x86_64 machine, from a mirror of
  # Debian's arm64 OTP tarred with its symlinks, and runs them under qemu-user
  # (Batamanta.Test.Aarch64). Each example is built once; under emulation one start of a
  # hello takes seconds, so each test runs the binary as few times as it can.
  use ExUnit.Case, async: false

  alias Batamanta.Test.{Aarch64, Example, Wait}
  import Batamanta.Test.Loopback

  @moduletag :e2e
  @moduletag timeout: 900_000

  @hello Path.join(Example.path("hello_cli"), "hello-0.1.0-aarch64-linux")

  setup_all do
    Aarch64.require!()
    dir = Path.join(System.tmp_dir!(), "batamanta-aarch64-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    source = Aarch64.mirror(Path.join(dir, "mirror"))
    namespace = Aarch64.start()

    on_exit(fn ->
      kill_processes_under(dir)
      Aarch64.stop(namespace)
      File.rm_rf!(dir)
      File.rm(@hello)
    end)

    env = [{"XDG_CACHE_HOME", Path.join(dir, "xdg")}]
    args = ["--erts-target", "ubuntu_22_04_arm64", "--erts-source", source, "--no-banner"]

    builds =
      for {example, output} <- [
            hello_cli: nil,
            escript_crypto: "sha256",
            tui: "tui",
            daemon: "hello_daemon"
          ],
          into: %{} do
        output_args = if output, do: ["--output", Path.join(dir, output)], else: []
        tmp = Path.join(dir, "tmp-#{example}")
        {log, status} = Example.build(to_string(example), args ++ output_args, tmp, env)
        assert status == 0, "mix batamanta failed in examples/#{example}:\n#{log}"
        {example, %{log: log, binary: if(output, do: Path.join(dir, output), else: @hello)}}
      end

    %{dir: dir, builds: builds, cache: Path.join(dir, "cache"), namespace: namespace}
  end

  defp run(context, example, args, opts \\ []) do
    env = [{"BATAMANTA_CACHE_DIR", context.cache} | Keyword.get(opts, :env, [])]

    Aarch64.cmd(
      context.namespace,
      context.builds[example].binary,
      args,
      Keyword.put(opts, :env, env)
    )
  end

  test "the cli binary is named for the arch, is an aarch64 ELF, and runs", context do
    assert context.builds.hello_cli.log =~ "target       aarch64-linux-gnu"

    assert {:ok, <<0x7F, "ELF", 2, 1, _::binary-size(12), 183::little-16>>} =
             File.open(@hello, [:read, :binary], &IO.binread(&1, 20))

    assert {"Hello from batamanta!\n", 0} = run(context, :hello_cli, [])
  end

  test "argv arrives exactly, the exit status comes back, stdin is read", context do
    argv = ["one", "two words", "", "-- --flag", "ünïcode", "*"]
    assert {output, 0} = run(context, :hello_cli, ["args" | argv])
    assert output == inspect(["args" | argv]) <> "\n"

    assert {_, 42} = run(context, :hello_cli, ["exit", "42"])

    input = Path.join(context.dir, "stdin")
    File.write!(input, "first line\nsecond\n")
    script = ~s(input=$1; shift; exec "$0" "$@" < "$input")
    env = [{"BATAMANTA_CACHE_DIR", context.cache}]

    assert {"read: first line\nsecond\n", 0} =
             Aarch64.cmd(context.namespace, "sh", ["-c", script, @hello, input, "read"], env: env)
  end

  test "an escript built for aarch64 calls :crypto", context do
    assert context.builds.escript_crypto.log =~ "format       escript"
    expected = Base.encode16(:crypto.hash(:sha256, "batamanta"), case: :lower) <> "\n"
    assert {^expected, 0} = run(context, :escript_crypto, ["batamanta"])
  end

  test "the TUI runs in a terminal and quits on q", context do
    socket = "batamanta-aarch64-tui-#{System.unique_integer([:positive])}"
    run = Path.join(context.dir, "tui-run")
    File.mkdir_p!(run)

    env =
      Enum.map_join(Aarch64.env([{"BATAMANTA_CACHE_DIR", context.cache}]), " ", fn {k, v} ->
        "#{k}='#{v}'"
      end)

    File.write!(Path.join(run, "run.sh"), """
    export #{env} LANG=C.UTF-8
    #{Aarch64.command_line(context.namespace, context.builds.tui.binary, [])}
    echo "status=$?"
    sleep 600
    """)

    on_exit(fn -> System.cmd("tmux", ["-L", socket, "kill-server"], stderr_to_stdout: true) end)

    {_, 0} =
      System.cmd("tmux", ~w(-L #{socket} new-session -d -x 80 -y 24 -c #{run} sh run.sh),
        stderr_to_stdout: true
      )

    screen = fn -> elem(System.cmd("tmux", ~w(-L #{socket} capture-pane -p)), 0) end
    assert Wait.until(fn -> screen.() =~ "Nothing selected" end, 600), screen.()
    System.cmd("tmux", ~w(-L #{socket} send-keys Down Enter))
    assert Wait.until(fn -> screen.() =~ "Selected: " end, 300), screen.()
    System.cmd("tmux", ~w(-L #{socket} send-keys q))
    assert Wait.until(fn -> screen.() =~ "status=0" end, 300), screen.()
  end

  test "the daemon starts, reports its status (its pid is the emulated VM) and stops", context do
    state = Path.join(context.dir, "state")
    port = free_port()

    env = [
      {"XDG_STATE_HOME", state},
      {"HELLO_DAEMON_PORT", to_string(port)},
      {"HELLO_DAEMON_STOP_MARKER", Path.join(context.dir, "stopped")}
    ]

    on_exit(fn -> run(context, :daemon, ["stop", "--timeout", "5"], env: env) end)

    assert {output, 0} = run(context, :daemon, ["start", "--timeout", "120"], env: env)
    [_, pid] = Regex.run(~r/^started hello_daemon \(pid (\d+)\)/m, output)
    assert {"200", 0} = get(port, 10)

    # Under qemu /proc/<pid>/exe is the emulator; the check accepts it only because the
    # program qemu was handed is the extraction's beam.smp.
    assert File.read_link!("/proc/#{pid}/exe") == Aarch64.qemu()
    assert {status, 0} = run(context, :daemon, ["status"], env: env)
    assert status =~ "hello_daemon is running (pid #{pid})"

    # Not every emulated process passes: the same VM recorded as another extraction's is
    # stale. status says so and leaves the file alone: only start and stop, under the
    # state lock, remove a stale pid file.
    pid_file = Path.join(state, "batamanta/hello_daemon/hello_daemon.pid")
    recorded = File.read!(pid_file)
    File.write!(pid_file, "#{pid}\n/elsewhere/extraction\n")
    assert {_, 3} = run(context, :daemon, ["status"], env: env)
    assert File.read!(pid_file) == "#{pid}\n/elsewhere/extraction\n"
    File.write!(pid_file, recorded)

    assert {output, 0} = run(context, :daemon, ["stop", "--timeout", "60"], env: env)
    assert output =~ "stopped hello_daemon (pid #{pid})"
    assert File.read!(Path.join(context.dir, "stopped")) == "stopped\n"
    assert {"hello_daemon is not running\n", 3} = run(context, :daemon, ["status"], env: env)
  end

  # Emulated processes (the VM, epmd) show qemu as their exe; their argv names the program.
  defp kill_processes_under(dir) do
    for entry <- File.ls!("/proc"),
        entry =~ ~r/^\d+$/,
        {:ok, cmdline} <- [File.read("/proc/#{entry}/cmdline")],
        Enum.any?(String.split(cmdline, <<0>>), &String.starts_with?(&1, dir)) do
      System.cmd("kill", ["-9", entry])
    end
  end
end
