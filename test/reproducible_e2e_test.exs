defmodule Batamanta.ReproducibleE2ETest do
  # Builds copies of examples/hello_cli in two directories (different paths, umasks and
  # times) and compares the binaries byte for byte. The copies drop the example's
  # compression and mode settings and name the release and mode on the command line, so
  # the same builds also show the default level and `--mode`/`--release` end to end.
  use ExUnit.Case, async: false

  @moduletag :e2e
  @moduletag timeout: 900_000

  @example Path.expand("../examples/hello_cli", __DIR__)
  @batamanta Path.expand("..", __DIR__)

  defp copy_example(dir) do
    project = Path.join(dir, "hello_cli")
    File.mkdir_p!(project)

    for name <-
          ["mix.exs", "lib"] ++
            Enum.filter(["config", "rel"], &File.exists?(Path.join(@example, &1))) do
      File.cp_r!(Path.join(@example, name), Path.join(project, name))
    end

    mix_exs = Path.join(project, "mix.exs")
    source = File.read!(mix_exs)

    rewritten =
      source
      |> String.replace(~s(path: "../.."), ~s(path: #{inspect(@batamanta)}))
      |> String.replace(~s(execution_mode: :cli, compression: 3, ), "")

    assert rewritten =~ ~s(path: #{inspect(@batamanta)}) and not (rewritten =~ "compression"),
           "examples/hello_cli/mix.exs no longer has path: \"../..\" and compression: 3"

    File.write!(mix_exs, rewritten)
    project
  end

  defp build(project, output, umask) do
    env = [
      {"MIX_ENV", nil},
      {"SOURCE_DATE_EPOCH", "1700000000"},
      {"TMPDIR", Path.dirname(output)}
    ]

    script = ~s(umask #{umask} && exec mix batamanta --output "$0" --mode cli --release hello_cli)

    {log, status} =
      System.cmd("sh", ["-c", script, output], cd: project, env: env, stderr_to_stdout: true)

    assert status == 0, "mix batamanta in #{project} failed:\n#{log}"
    log
  end

  # Outside the batamanta tree, which is the examples' path dependency.
  setup do
    dir = Path.join(System.tmp_dir!(), "batamanta-repro-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)
    %{dir: dir}
  end

  test "two builds in different directories at different times are byte-identical", %{dir: dir} do
    first = copy_example(Path.join(dir, "one"))
    second = copy_example(Path.join(dir, "a/much/longer/path/two"))
    first_bin = Path.join(dir, "one.bin")
    second_bin = Path.join(dir, "two.bin")

    log = build(first, first_bin, "022")
    assert log =~ "\n#{first_bin}\n"
    default = Enum.find(Batamanta.Config.options(), &(&1.key == :compression)).default
    assert log =~ ~r/^  compression  zstd #{default}, ratio/m
    assert log =~ ~r/^  mode         cli$/m
    assert log =~ ~r/^  format       release \(hello_cli 0\.1\.0\)$/m
    # Past the next second, so any wall-clock time that leaks in shows up. Without the
    # first build's frames, so the second compresses everything again.
    Process.sleep(1_100)
    File.rm_rf!(Batamanta.FrameCache.dir(System.get_env()))
    assert build(second, second_bin, "002") =~ ~r/\(zstd #{default}\) \(/

    assert sha256(first_bin) == sha256(second_bin)

    # A rebuild takes both frames from the cache, and the same bytes come out; after a
    # change to the app's code, only the runtime's frame.
    third_bin = Path.join(dir, "three.bin")
    assert build(first, third_bin, "022") =~ "(zstd #{default}, every frame from the cache)"
    assert sha256(third_bin) == sha256(first_bin)

    File.write!(Path.join(first, "lib/hello_cli/changed.ex"), """
    defmodule HelloCli.Changed do
      def changed, do: :yes
    end
    """)

    assert build(first, third_bin, "022") =~ "(zstd #{default}, 1 of 2 frames from the cache)"
    assert sha256(third_bin) != sha256(first_bin)
  end

  defp sha256(path), do: :crypto.hash(:sha256, File.read!(path)) |> Base.encode16(case: :lower)
end
