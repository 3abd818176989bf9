defmodule Batamanta.DaemonE2ETest do
  # Builds examples/daemon (an :inets HTTP service) with `mix batamanta` and drives the
  # binary as a service manager: the :daemon contract of issue 5 and the README.
  use ExUnit.Case, async: false

  alias Batamanta.Test.{ErlangHidden, Example, Project, Wait}
  import Batamanta.Test.Loopback

  @moduletag :e2e
  @moduletag timeout: 600_000

  setup_all do
    dir = Path.join(System.tmp_dir!(), "batamanta-daemon-#{System.unique_integer([:positive])}")
    binary = Path.join(dir, "hello_daemon")

    {output, status} =
      Example.build("daemon", ["--output", binary, "--no-banner"], Path.join(dir, "tmp"))

    assert status == 0, "mix batamanta failed:\n#{output}"
    assert output =~ "mode         daemon"

    on_exit(fn ->
      Project.kill_processes_under(dir)
      File.rm_rf!(dir)
    end)

    %{binary: binary, dir: dir}
  end

  setup context do
    id = System.unique_integer([:positive])
    state = Path.join(context.dir, "state-#{id}")
    marker = Path.join(context.dir, "stopped-#{id}")

    env = [
      {"XDG_STATE_HOME", state},
      {"BATAMANTA_CACHE_DIR", Path.join(context.dir, "cache")},
      {"HELLO_DAEMON_PORT", to_string(free_port())},
      {"HELLO_DAEMON_STOP_MARKER", marker},
      {"LANG", "C.UTF-8"}
    ]

    # Whatever a test leaves running is stopped, even when it failed halfway.
    on_exit(fn ->
      System.cmd(context.binary, ["stop", "--timeout", "5"], env: env, stderr_to_stdout: true)
    end)

    port = env |> List.keyfind("HELLO_DAEMON_PORT", 0) |> elem(1) |> String.to_integer()

    %{
      env: env,
      state: Path.join([state, "batamanta", "hello_daemon"]),
      marker: marker,
      port: port
    }
  end

  defp bin(context, args),
    do: System.cmd(context.binary, args, env: context.env, stderr_to_stdout: true)

  defp start!(context, args \\ []) do
    {output, status} = bin(context, ["start" | args])
    assert status == 0, output
    [_, pid] = Regex.run(~r/^started hello_daemon \(pid (\d+)\), log: \//m, output)
    String.to_integer(pid)
  end

  defp alive?(pid), do: File.exists?("/proc/#{pid}") and not zombie?(pid)

  defp zombie?(pid) do
    case File.read("/proc/#{pid}/stat") do
      {:ok, stat} -> stat |> String.split(") ") |> List.last() |> String.starts_with?("Z")
      {:error, _} -> true
    end
  end

  test "start serves HTTP, status reports it, a second start is refused, stop runs stop/1",
       context do
    pid = start!(context, ["--", "one", "two words"])
    assert {"200", 0} = get(context.port)

    assert {status_output, 0} = bin(context, ["status"])
    assert status_output =~ "hello_daemon is running (pid #{pid})"
    assert {"#{pid}\n", 0} == bin(context, ["pid"])

    assert {output, 1} = bin(context, ["start"])
    assert output =~ "already running (pid #{pid})"

    for name <- ["", "hello_daemon.log", "hello_daemon.pid", "cookie"] do
      mode = File.stat!(Path.join(context.state, name)).mode
      assert Bitwise.band(mode, 0o077) == 0, "#{name} is accessible to others"
    end

    refute File.read!("/proc/#{pid}/cmdline") =~ File.read!(Path.join(context.state, "cookie"))

    assert {output, 0} = bin(context, ["stop"])
    assert output =~ "stopped hello_daemon (pid #{pid})"
    assert File.read!(context.marker) == "stopped\n"
    refute alive?(pid)
    assert {"000", _} = get(context.port)
    assert {"hello_daemon is not running\n", 3} = bin(context, ["status"])
    assert {_, 1} = bin(context, ["stop"])

    assert {log, 0} = bin(context, ["logs"])
    assert log =~ ~s(listening on 127.0.0.1:#{context.port}, args: ["one", "two words"])
    assert log =~ "hello_daemon stopping"
  end

  test "a VM killed with SIGKILL leaves a stale pid file that the next start replaces", context do
    pid = start!(context)
    System.cmd("kill", ["-9", to_string(pid)])
    assert Wait.until(fn -> not alive?(pid) end, 100)

    assert {_, 3} = bin(context, ["status"])
    new_pid = start!(context)
    assert new_pid != pid
    assert {"200", 0} = get(context.port)
    assert File.read!(Path.join(context.state, "hello_daemon.pid")) =~ "#{new_pid}\n"
  end

  test "a pid file naming a live process that is not our VM is stale", context do
    File.mkdir_p!(context.state)
    File.chmod!(context.state, 0o700)
    File.write!(Path.join(context.state, "hello_daemon.pid"), "#{System.pid()}\n/nonexistent\n")
    assert {_, 3} = bin(context, ["status"])
    start!(context)
    assert {"200", 0} = get(context.port)
  end

  test "closing the terminal (SIGHUP to the session) does not stop the daemon", context do
    # A session of its own stands in for a terminal: start there, then hang up on it.
    # Its streams go to files, so nothing it leaves behind holds the test's pipes.
    session_file = Path.join(context.dir, "session-#{System.unique_integer([:positive])}")

    script = ~s(exec >"$1.out" 2>&1 </dev/null; "$0" start && echo $$ >"$1" && exec sleep 600)
    env = Enum.map(context.env, fn {name, value} -> {~c"#{name}", ~c"#{value}"} end)

    Port.open({:spawn_executable, System.find_executable("setsid")}, [
      :exit_status,
      args: ["sh", "-c", script, context.binary, session_file],
      env: env
    ])

    assert Wait.until(fn -> File.exists?(session_file) end, 600),
           "start inside the session did not finish: #{inspect(File.read(session_file <> ".out"))}"

    session = session_file |> File.read!() |> String.trim()
    assert {"200", 0} = get(context.port)
    {pid_text, 0} = bin(context, ["pid"])
    System.cmd("kill", ["-HUP", "--", "-" <> session])

    assert Wait.until(fn -> not File.exists?("/proc/#{session}") end, 100),
           "the session survived SIGHUP"

    Process.sleep(500)
    assert alive?(String.to_integer(String.trim(pid_text)))
    assert {"200", 0} = get(context.port)
    assert {_, 0} = bin(context, ["status"])
  end

  test "rpc and eval behave like the release's own commands", context do
    start!(context)

    assert {"ok\nhello_daemon@" <> _, 0} =
             bin(context, ["rpc", "IO.puts(:ok); IO.puts(Node.self())"])

    assert {"3\n", 0} = bin(context, ["eval", "IO.puts(1 + 2)"])
  end

  test "rpc refuses when the daemon is not running; bad usage exits 64", context do
    assert {output, 1} = bin(context, ["rpc", "IO.puts(:ok)"])
    assert output =~ "not running"
    assert {output, 64} = bin(context, ["frobnicate"])
    assert output =~ "unknown command"
    assert {output, 64} = bin(context, ["stop", "--timeout", "soon"])
    assert output =~ "--timeout"
  end

  test "pid and logs say when there is nothing; args need --; no command means start",
       context do
    assert {_, 1} = bin(context, ["pid"])
    assert {output, 1} = bin(context, ["logs"])
    assert output =~ "hello_daemon.log"
    assert {output, 64} = bin(context, ["start", "one"])
    assert output =~ "--"

    {output, 0} = bin(context, [])
    assert output =~ ~r/^started hello_daemon \(pid \d+\)/m
    assert {"200", 0} = get(context.port)
    assert {_, 0} = bin(context, ["status"])
  end

  test "start makes ~/.erlang.cookie 0400 when it is missing", context do
    cookie = Path.join(System.fetch_env!("HOME"), ".erlang.cookie")
    File.rm(cookie)
    start!(context)
    assert %File.Stat{mode: mode} = File.stat!(cookie)
    assert Bitwise.band(mode, 0o777) == 0o400
  end

  test "a state dir others can access, or owned by another user, is refused with 73",
       context do
    File.mkdir_p!(context.state)
    File.chmod!(context.state, 0o755)
    assert {output, 73} = bin(context, ["start"])
    assert output =~ context.state
    assert output =~ "accessible to other users"

    File.chmod!(context.state, 0o700)
    File.chown!(context.state, 4321)
    assert {output, 73} = bin(context, ["status"])
    assert output =~ "owned by another user"
    File.chown!(context.state, 0)
  end

  test "a boot slower than start --timeout is killed and the log's end printed", context do
    env = [{"HELLO_DAEMON_START_DELAY_MS", "20000"} | context.env]

    {output, status} =
      System.cmd(context.binary, ["start", "--timeout", "2"], env: env, stderr_to_stdout: true)

    assert status == 1, output
    assert output =~ "did not finish booting within 2 s"
    assert output =~ "end of its log"
    assert {"hello_daemon is not running\n", 3} = bin(context, ["status"])
    assert {"000", _} = get(context.port)
  end

  test "a stop slower than stop --timeout ends in SIGKILL", context do
    env = [{"HELLO_DAEMON_STOP_DELAY_MS", "30000"} | context.env]
    {output, 0} = System.cmd(context.binary, ["start"], env: env, stderr_to_stdout: true)
    [_, pid] = Regex.run(~r/\(pid (\d+)\)/, output)

    {micros, {output, status}} = :timer.tc(fn -> bin(context, ["stop", "--timeout", "2"]) end)
    assert status == 0, output
    assert output =~ "killed (no graceful stop within 2 s)"
    assert micros < 15_000_000
    refute alive?(String.to_integer(pid))
    refute File.exists?(context.marker)
    assert {_, 3} = bin(context, ["status"])
  end

  test "logs -f follows the log as it grows", context do
    start!(context)
    log = Path.join(context.dir, "follow-#{System.unique_integer([:positive])}")
    env = Enum.map(context.env, fn {name, value} -> {~c"#{name}", ~c"#{value}"} end)

    port =
      Port.open({:spawn_executable, System.find_executable("sh")}, [
        :exit_status,
        args: ["-c", ~s(exec "$0" logs -f >"$1" 2>&1), context.binary, log],
        env: env
      ])

    {:os_pid, follower} = Port.info(port, :os_pid)
    on_exit(fn -> System.cmd("kill", ["-9", to_string(follower)]) end)
    # The follower's shell creates the file when it gets to run, maybe after this does.
    followed = fn ->
      case File.read(log) do
        {:ok, text} -> text
        {:error, _} -> ""
      end
    end

    assert Wait.until(fn -> followed.() =~ "listening on" end, 100)
    assert {_, 0} = bin(context, ["stop"])
    assert Wait.until(fn -> followed.() =~ "hello_daemon stopping" end, 100)
    assert alive?(follower), "logs -f ended with the daemon"
  end

  test "remote is an IEx shell on the running node", context do
    start!(context)
    # IEx ignores --remsh without a terminal: script(1) gives it one.
    env =
      Enum.map([{"BIN", context.binary}, {"SHELL", "/bin/sh"} | context.env], fn {name, value} ->
        {~c"#{name}", ~c"#{value}"}
      end)

    port =
      Port.open({:spawn_executable, System.find_executable("script")}, [
        :binary,
        :exit_status,
        args: ["-qfc", ~s(exec "$BIN" remote), "/dev/null"],
        env: env
      ])

    {:os_pid, script} = Port.info(port, :os_pid)
    on_exit(fn -> System.cmd("pkill", ["-KILL", "-P", to_string(script)]) end)
    on_exit(fn -> System.cmd("kill", ["-KILL", to_string(script)]) end)
    assert shell_output(port, ~r/iex\(hello_daemon@[^)]*\)1> /) =~ "Interactive Elixir"
    Port.command(port, ~s|IO.puts("remote on " <> to_string(node()))\r|)
    assert shell_output(port, ~r/remote on hello_daemon@/) =~ "remote on hello_daemon@"
  end

  defp shell_output(port, pattern, seen \\ "") do
    receive do
      {^port, {:data, data}} ->
        seen = seen <> data
        if seen =~ pattern, do: seen, else: shell_output(port, pattern, seen)

      {^port, {:exit_status, status}} ->
        flunk("remote exited with #{status} before #{inspect(pattern)}:\n#{seen}")
    after
      30_000 -> flunk("no #{inspect(pattern)} from remote in 30 s:\n#{seen}")
    end
  end

  test "with Erlang hidden it starts and stops from its payload alone", context do
    cache = Path.join(context.dir, "hidden-#{System.unique_integer([:positive])}")

    script =
      ~s|"$0" start && "$0" status && curl -s -m 5 -w '%{http_code}\\n' "http://127.0.0.1:$HELLO_DAEMON_PORT/" -o /dev/null && "$0" stop|

    # Only the cache is writable in there: the state, HOME and the marker live in it.
    marker = Path.join(cache, "stopped")

    env = [
      {"XDG_STATE_HOME", Path.join(cache, "state")},
      {"HOME", cache},
      {"TMPDIR", cache},
      {"HELLO_DAEMON_PORT", to_string(context.port)},
      {"HELLO_DAEMON_STOP_MARKER", marker}
    ]

    assert {output, 0} = ErlangHidden.run("/bin/sh", ["-c", script, context.binary], cache, env)
    assert output =~ "started hello_daemon"
    assert output =~ "\n200\n"
    assert output =~ "stopped hello_daemon"
    log = File.read(Path.join(cache, "state/batamanta/hello_daemon/hello_daemon.log"))
    assert File.read(marker) == {:ok, "stopped\n"}, "#{output}\nlog: #{inspect(log)}"
  end

  test "--help lists the commands", context do
    assert {help, 0} = bin(context, ["--help"])

    for command <- ~w(start stop status pid logs remote rpc eval) do
      assert help =~ ~r/^  #{command}\b/m
    end
  end
end
