defmodule Batamanta.TuiE2ETest do
  # Builds examples/tui (execution_mode: :tui) and drives the binary in a real terminal,
  # a detached tmux pane: raw mode while it runs, the exact termios back afterwards
  # whichever way it ends, signals and exit statuses passed through (issue 5).
  use ExUnit.Case, async: false

  alias Batamanta.Test.{ErlangHidden, Example}

  @moduletag :e2e
  @moduletag timeout: 600_000

  @torture ["--help", "-noshell", "-extra", "+S", "1", "-s", "foo", "", "a b", "héllo ✓"]
  @wait_ms 30_000

  setup_all do
    System.find_executable("tmux") || flunk("tmux is needed for this test")
    dir = Path.join(System.tmp_dir!(), "batamanta-tui-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)

    binary = Path.join(dir, "menu")
    {output, status} = Example.build("tui", ["--output", binary], Path.join(dir, "tmp"))

    assert status == 0, "mix batamanta failed:\n#{output}"
    assert output =~ "mode         tui"
    %{binary: binary, dir: dir, cache: Path.join(dir, "cache")}
  end

  # Starts `binary args` in a fresh 80x24 tmux pane from a script that records the
  # terminal's settings before and after the run and shows the exit status in the pane.
  # The script's sh is not interactive, so no shell touches the terminal in between.
  defp start(context, args, opts \\ []) do
    id = System.unique_integer([:positive])
    run = Path.join(context.dir, "run-#{id}")
    File.mkdir_p!(run)
    stdout = if opts[:stdout], do: " > out", else: ""

    File.write!(Path.join(run, "run.sh"), """
    export BATAMANTA_CACHE_DIR=#{shell_quote(context.cache)} LANG=C.UTF-8
    stty -g > before.g; stty -a > before.a
    sh -c 'echo $$ > pid; exec "$0" "$@"' #{Enum.map_join([context.binary | args], " ", &shell_quote/1)}#{stdout}
    echo "status=$?"
    stty -g > after.g; stty -a > after.a; : > finished
    sleep 600
    """)

    socket = "batamanta-tui-#{id}"
    on_exit(fn -> System.cmd("tmux", ["-L", socket, "kill-server"], stderr_to_stdout: true) end)

    {_, 0} =
      System.cmd("tmux", ~w(-L #{socket} new-session -d -x 80 -y 24 -c #{run} sh run.sh),
        stderr_to_stdout: true
      )

    session = %{socket: socket, run: run}
    await(session, fn -> File.exists?(Path.join(run, "pid")) end)
    session
  end

  defp shell_quote(arg), do: "'" <> String.replace(arg, "'", ~S('\'')) <> "'"

  defp tmux(session, args) do
    {output, 0} = System.cmd("tmux", ["-L", session.socket | args], stderr_to_stdout: true)
    output
  end

  defp screen(session), do: tmux(session, ~w(capture-pane -p))

  defp keys(session, keys), do: tmux(session, ["send-keys" | keys])

  defp await_screen(session, pattern) do
    await(session, fn -> screen(session) =~ pattern end)
    screen(session)
  end

  defp await(session, done?, waited \\ 0) do
    cond do
      done?.() ->
        :ok

      waited >= @wait_ms ->
        flunk("gave up waiting after #{@wait_ms} ms; the pane shows:\n#{screen(session)}")

      true ->
        Process.sleep(50)
        await(session, done?, waited + 50)
    end
  end

  defp read(session, name), do: File.read!(Path.join(session.run, name))

  defp dispenser_pid(session), do: session |> read("pid") |> String.trim()

  defp vm_pid(session) do
    pid = dispenser_pid(session)
    await(session, fn -> match?({_, 0}, System.cmd("pgrep", ["-P", pid])) end)
    {children, 0} = System.cmd("pgrep", ["-P", pid])
    String.trim(children)
  end

  defp assert_terminal_restored(session) do
    await(session, fn -> File.exists?(Path.join(session.run, "finished")) end)
    assert read(session, "after.g") == read(session, "before.g")
    assert read(session, "after.a") == read(session, "before.a")
  end

  test "arrow keys move, Enter selects, q quits; raw mode while it runs", context do
    session = start(context, [])
    await_screen(session, "Nothing selected")

    tty = session |> tmux(~w(display-message -p #{"\#{pane_tty}"})) |> String.trim()
    {modes, 0} = System.cmd("stty", ["-F", tty, "-a"])
    modes = String.split(modes)

    for mode <- ~w(-icanon -echo -isig -iexten -icrnl -ixon opost onlcr) do
      assert mode in modes
    end

    keys(session, ~w(Down Down Enter))
    shown = await_screen(session, "Selected: Cherries")
    assert shown =~ "> Cherries"

    keys(session, ["q"])
    shown = await_screen(session, "status=0")
    assert shown =~ "picked: Cherries"
    assert_terminal_restored(session)
  end

  test "it redraws when the terminal is resized", context do
    session = start(context, [])
    await_screen(session, "80x24")
    tmux(session, ~w(resize-window -x 100 -y 30))
    shown = await_screen(session, "100x30")
    assert shown |> String.split("\n") |> Enum.at(29) =~ "100x30  Up/Down move"
    keys(session, ["q"])
    await_screen(session, "status=0")
    await(session, fn -> File.exists?(Path.join(session.run, "finished")) end)
    assert read(session, "after.g") == read(session, "before.g")
  end

  test "SIGTERM mid-session: the app stops, the terminal is restored, status 143", context do
    session = start(context, [])
    await_screen(session, "Nothing selected")
    keys(session, ["Down"])
    await_screen(session, "> Bananas")
    vm = vm_pid(session)

    System.cmd("kill", ["-TERM", dispenser_pid(session)])
    shown = await_screen(session, "status=143")
    refute shown =~ "Nothing selected", "the app's stop/1 leaves the alternate screen"
    refute File.exists?("/proc/#{vm}")
    assert_terminal_restored(session)
  end

  test "the VM killed outright: the terminal is restored, status 137", context do
    session = start(context, [])
    await_screen(session, "Nothing selected")
    System.cmd("kill", ["-KILL", vm_pid(session)])
    await_screen(session, "status=137")
    assert_terminal_restored(session)
  end

  test "on a terminal, argv arrives verbatim and the exit status passes through", context do
    session = start(context, ["args" | @torture], stdout: true)
    await_screen(session, "status=0")
    assert read(session, "out") == inspect(["args" | @torture]) <> "\n"
    assert_terminal_restored(session)

    session = start(context, ["exit", "3"])
    await_screen(session, "status=3")
    assert_terminal_restored(session)
  end

  test "Ctrl-C reaches the app as byte 3, not SIGINT: the menu quits as on q", context do
    session = start(context, [])
    await_screen(session, "Nothing selected")
    keys(session, ~w(Down Enter))
    await_screen(session, "Selected: Bananas")
    keys(session, ["C-c"])
    shown = await_screen(session, "status=0")
    assert shown =~ "picked: Bananas"
    assert_terminal_restored(session)
  end

  test "HUP and USR2 are forwarded; a status the app picks on SIGTERM is kept", context do
    session = start(context, ["signals"])
    await_screen(session, "waiting for signals")
    # The VM's handlers are in place once it prints; the dispenser is the one signalled.
    for signal <- ~w(HUP USR2) do
      System.cmd("kill", ["-#{signal}", dispenser_pid(session)])
      await_screen(session, "got sig#{String.downcase(signal)}")
    end

    System.cmd("kill", ["-TERM", dispenser_pid(session)])
    await_screen(session, "status=7")
    assert_terminal_restored(session)
  end

  # Signals `signal` to the dispenser of a running menu; `reaction` sees what the VM did.
  defp signal_menu(context, signal, reaction) do
    session = start(context, [])
    await_screen(session, "Nothing selected")
    vm = vm_pid(session)
    System.cmd("kill", ["-#{signal}", dispenser_pid(session)])
    reaction.(session)
    refute File.exists?("/proc/#{vm}")
    assert_terminal_restored(session)
  end

  test "SIGINT is forwarded: the VM's BREAK menu opens on the restored terminal", context do
    signal_menu(context, "INT", fn session ->
      await_screen(session, "BREAK: (a)bort")
      keys(session, ["a", "Enter"])
      await_screen(session, ~r/status=\d+/)
    end)
  end

  test "SIGUSR1 is forwarded: the VM writes its crash dump and halts", context do
    signal_menu(context, "USR1", fn session ->
      await_screen(session, "Received SIGUSR1")
      await_screen(session, ~r/status=\d+/)
    end)
  end

  test "SIGQUIT is forwarded and halts the VM, which the status reports as 128+3", context do
    signal_menu(context, "QUIT", &await_screen(&1, "status=131"))
  end

  # README: SIGINT opens the BREAK menu unless the release's vm.args has +Bd (SIGINT ends
  # the VM) or +Bi (ignored). Built from a copy of the example with its own vm.args.
  defp build_with_vm_args(context, flag) do
    project = Path.join(context.dir, "tui#{flag}")
    File.cp_r!(Example.path("tui"), project)
    File.rm_rf!(Path.join(project, "_build"))
    mix_exs = Path.join(project, "mix.exs")
    root = Path.expand("..", __DIR__)

    File.write!(
      mix_exs,
      String.replace(File.read!(mix_exs), ~s(path: "../.."), "path: #{inspect(root)}")
    )

    File.mkdir_p!(Path.join(project, "rel"))
    File.write!(Path.join(project, "rel/vm.args.eex"), "#{flag}\n")
    binary = Path.join(context.dir, "menu#{flag}")
    tmp = Path.join(context.dir, "tmp#{flag}")
    File.mkdir_p!(tmp)
    env = [{"MIX_ENV", nil}, {"SOURCE_DATE_EPOCH", "1700000000"}, {"TMPDIR", tmp}]

    {output, status} =
      System.cmd("mix", ["batamanta", "--output", binary],
        cd: project,
        env: env,
        stderr_to_stdout: true
      )

    assert status == 0, "mix batamanta failed:\n#{output}"
    %{context | binary: binary}
  end

  test "vm.args +Bd: SIGINT ends the VM, no BREAK menu", context do
    signal_menu(build_with_vm_args(context, "+Bd"), "INT", fn session ->
      refute await_screen(session, ~r/status=\d+/) =~ "BREAK"
    end)
  end

  test "vm.args +Bi: SIGINT is ignored and the app keeps running", context do
    signal_menu(build_with_vm_args(context, "+Bi"), "INT", fn session ->
      Process.sleep(1000)
      refute screen(session) =~ ~r/BREAK|status=/
      System.cmd("kill", ["-TERM", dispenser_pid(session)])
      await_screen(session, "status=143")
    end)
  end

  test "with Erlang hidden it runs from its payload alone", context do
    cache = Path.join(context.dir, "hidden-cache")
    assert {output, 0} = ErlangHidden.run(context.binary, ["args", "a b"], cache)
    assert output =~ ~s(["args", "a b"])
    assert {_, 3} = ErlangHidden.run(context.binary, ["exit", "3"], cache)
  end

  test "without a terminal on stdin it runs as :cli with one warning line", context do
    script = ~S|"$0" "$@" </dev/null 2>"$ERR"|
    err = Path.join(context.dir, "stderr-#{System.unique_integer([:positive])}")
    env = [{"BATAMANTA_CACHE_DIR", context.cache}, {"LANG", "C.UTF-8"}, {"ERR", err}]

    assert {output, 0} =
             System.cmd("sh", ["-c", script, context.binary, "args" | @torture], env: env)

    assert output == inspect(["args" | @torture]) <> "\n"

    assert File.read!(err) ==
             "batamanta: #{context.binary}: warning: stdin is not a terminal; " <>
               "starting without raw mode\n"

    assert {"", 3} = System.cmd("sh", ["-c", script, context.binary, "exit", "3"], env: env)
  end
end
