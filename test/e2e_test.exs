defmodule Batamanta.E2ETest do
  # Builds examples/hello_cli with `mix batamanta` and runs the binary: the CLI-mode
  # contract of docs/FORMAT.md and issue 2, including a run with Erlang hidden.
  use ExUnit.Case, async: false

  alias Batamanta.Test.{ErlangHidden, Example}

  @moduletag :e2e
  @moduletag timeout: 600_000

  @torture ["--help", "-noshell", "-extra", "+S", "1", "-s", "foo", "", "a b", "héllo ✓"]

  setup_all do
    dir = Path.join(System.tmp_dir!(), "batamanta-e2e-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)

    binary = Path.join(dir, "hello")
    build_tmp = Path.join(dir, "tmp")
    File.mkdir_p!(build_tmp)
    {output, status} = mix_batamanta(["--output", binary], build_tmp)

    assert status == 0, "mix batamanta failed:\n#{output}"
    assert output =~ "compression  zstd 3"
    %{binary: binary, dir: dir, build_output: output, build_tmp: build_tmp}
  end

  defp mix_batamanta(args, tmp), do: Example.build("hello_cli", args, tmp)

  setup %{dir: dir} do
    cache = Path.join(dir, "cache-#{System.unique_integer([:positive])}")
    %{cache: cache}
  end

  defp run(context, args, opts \\ []) do
    env = [
      {"BATAMANTA_CACHE_DIR", context.cache},
      {"LANG", "C.UTF-8"} | Keyword.get(opts, :env, [])
    ]

    System.cmd(context.binary, args, env: env, stderr_to_stdout: Keyword.get(opts, :stderr, false))
  end

  defp sh(context, script, args \\ []) do
    env = [{"BATAMANTA_CACHE_DIR", context.cache}, {"LANG", "C.UTF-8"}]
    System.cmd("sh", ["-c", script, context.binary | args], env: env, cd: context.dir)
  end

  test "the build prints its steps and a summary", %{build_output: output, binary: binary} do
    assert output =~ ~r/\* resolved config for release hello_cli 0\.1\.0 \(\d/
    assert output =~ "* built release hello_cli 0.1.0"
    assert output =~ binary
    assert output =~ "target       x86_64-linux-gnu"
    assert output =~ "mode         cli"
  end

  test "the binary is written executable, mode 0755", %{binary: binary} do
    assert Bitwise.band(File.stat!(binary).mode, 0o777) == 0o755
  end

  test "temporary files are removed after a build and after a failed one", context do
    assert File.ls!(context.build_tmp) == []

    assert {output, status} =
             mix_batamanta(~w(--erts-target alpine_3_19_x86_64), context.build_tmp)

    assert status != 0
    assert output =~ "x86_64-linux-musl"
    assert File.ls!(context.build_tmp) == []
  end

  test "a second build with the same SOURCE_DATE_EPOCH is byte-identical", context do
    again = Path.join(context.dir, "hello-again")
    assert {_, 0} = mix_batamanta(["--output", again, "--quiet"], context.build_tmp)
    assert File.read!(again) == File.read!(context.binary)
  end

  test "it greets", context do
    assert {"Hello from batamanta!\n", 0} = run(context, [])
  end

  test "BATAMANTA_MAINTENANCE=info describes the binary and runs nothing of the app",
       context do
    maintenance = [env: [{"BATAMANTA_MAINTENANCE", "info"}]]
    assert {info, 0} = run(context, ["args"], maintenance)
    assert info =~ ~r/^mode\s+cli$/m
    assert info =~ "(not extracted)"
    refute info =~ "args"

    assert {"Hello from batamanta!\n", 0} = run(context, [])
    assert {info, 0} = run(context, [], maintenance)
    assert info =~ "(extracted, not in use)"

    assert {"removed the extractions of " <> _, 0} =
             run(context, [], env: [{"BATAMANTA_MAINTENANCE", "uninstall"}])

    assert {info, 0} = run(context, [], maintenance)
    assert info =~ "(not extracted)"
  end

  test "System.argv/0 holds the arguments verbatim", context do
    assert {output, 0} = run(context, ["args" | @torture])
    assert output == inspect(["args" | @torture]) <> "\n"
  end

  test "--help reaches the app, not erl", context do
    assert {output, 0} = run(context, ["--help"])
    assert output =~ "usage: hello"
  end

  test "System.halt/1 sets the exit status", context do
    assert {"", 3} = run(context, ["exit", "3"])
    assert {"", 0} = run(context, ["exit", "0"])
  end

  test "a crash during start exits non-zero with the error on stderr", context do
    assert {stdout, 0} = sh(context, ~s("$0" crash 2>&1 >/dev/null; echo "status=$?"))
    assert stdout =~ "hello_cli was asked to crash during start"
    refute stdout =~ "status=0"
    refute File.exists?(Path.join(context.dir, "erl_crash.dump"))
  end

  test "a command that raises exits 1 with the error on stderr instead of hanging", context do
    # timeout(1) exits 124 if the VM outlives the crashed task, as README's old pattern did.
    assert {output, 0} = sh(context, ~s(timeout 60 "$0" raise 2>&1; echo "status=$?"))
    assert output =~ "hello_cli was asked to raise"
    assert output =~ "status=1\n"
  end

  test "stdin reaches the app", context do
    assert {"read: hi\n", 0} = sh(context, ~s(echo hi | "$0" read))
  end

  test "stdout and stderr stay separate", context do
    assert {"to stdout\n", 0} = sh(context, ~S|"$0" streams 2>/dev/null|)
    assert {"to stderr\n", 0} = sh(context, ~S|"$0" streams 2>&1 >/dev/null|)
  end

  # The binary execs the VM, so the pid the shell gets is the VM's: SIGTERM becomes
  # init:stop/0 there, and the application's stop/1 runs before the VM exits 0.
  test "SIGTERM to the binary runs the application's stop/1", context do
    marker = Path.join(context.dir, "stopped-#{System.unique_integer([:positive])}")

    script = ~S"""
    HELLO_STOP_MARKER="$1" "$0" wait >"$1.out" &
    pid=$!
    for _ in $(seq 200); do grep -q waiting "$1.out" 2>/dev/null && break; sleep 0.05; done
    kill -TERM "$pid"
    wait "$pid"
    echo "status=$?"
    """

    assert {"status=0\n", 0} = sh(context, script, [marker])
    assert File.read!(marker) == "stopped\n"
  end

  test "it runs with Erlang and Elixir hidden", context do
    assert {output, 0} = ErlangHidden.run(context.binary, ["args" | @torture], context.cache)
    assert output == inspect(["args" | @torture]) <> "\n"
  end
end
