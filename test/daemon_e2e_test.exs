defmodule Batamanta.DaemonE2ETest do
  # Builds examples/daemon (an :inets HTTP service) with `mix batamanta` and drives the
  # binary as a service manager: the :daemon contract of issue 5 and the README.
  use ExUnit.Case, async: false

  alias Batamanta.Test.Example

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
      kill_processes_under(dir)
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

  defp free_port do
    {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(socket)
    :gen_tcp.close(socket)
    port
  end

  defp get(port) do
    System.cmd("curl", [
      "-s",
      "-m",
      "5",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "http://127.0.0.1:#{port}/"
    ])
  end

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

  defp wait_until(fun, tries \\ 100) do
    cond do
      fun.() -> true
      tries == 0 -> false
      true -> Process.sleep(100) && wait_until(fun, tries - 1)
    end
  end

  # epmd, started by the VM, outlives it; it runs from this test's extraction.
  defp kill_processes_under(dir) do
    for entry <- File.ls!("/proc"),
        entry =~ ~r/^\d+$/,
        {:ok, exe} <- [File.read_link("/proc/#{entry}/exe")],
        String.starts_with?(exe, dir) do
      System.cmd("kill", ["-9", entry])
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
    assert wait_until(fn -> not alive?(pid) end)

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

    assert wait_until(fn -> File.exists?(session_file) end, 600),
           "start inside the session did not finish: #{inspect(File.read(session_file <> ".out"))}"

    session = session_file |> File.read!() |> String.trim()
    assert {"200", 0} = get(context.port)
    {pid_text, 0} = bin(context, ["pid"])
    System.cmd("kill", ["-HUP", "--", "-" <> session])

    assert wait_until(fn -> not File.exists?("/proc/#{session}") end),
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

  test "--help lists the commands", context do
    assert {help, 0} = bin(context, ["--help"])

    for command <- ~w(start stop status pid logs remote rpc eval) do
      assert help =~ ~r/^  #{command}\b/m
    end
  end
end
