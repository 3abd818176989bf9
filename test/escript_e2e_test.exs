defmodule Batamanta.EscriptE2ETest do
  # Builds examples/escript and examples/escript_crypto with `mix batamanta` (format
  # :escript, auto-detected from their escript: config) and runs them with Erlang
  # hidden: the argv and exit-status contract of issue 4. escript_crypto is also built
  # as a release, to show that both formats record the libraries their NIFs load.
  use ExUnit.Case, async: false

  alias Batamanta.{Inspection, Native}
  alias Batamanta.Test.{ErlangHidden, Example}

  @moduletag :e2e
  @moduletag timeout: 600_000

  @torture ["--help", "-noshell", "-extra", "+S", "1", "-s", "foo", "", "a b", "héllo ✓"]

  setup_all do
    dir = Path.join(System.tmp_dir!(), "batamanta-escript-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)

    builds =
      for example <- ["escript", "escript_crypto"], into: %{} do
        binary = Path.join(dir, example)
        {output, status} = mix_batamanta(example, ["--output", binary], dir)
        assert status == 0, "mix batamanta failed in examples/#{example}:\n#{output}"
        {example, %{binary: binary, output: output}}
      end

    # The same project as a TUI, started from its other module.
    shout = Path.join(dir, "escript-shout")
    args = ["--output", shout, "--mode", "tui", "--escript-module", "HelloEscript.Shout"]
    {output, status} = mix_batamanta("escript", args, dir)
    assert status == 0, "mix batamanta #{Enum.join(args, " ")} failed:\n#{output}"
    builds = Map.put(builds, "shout", %{binary: shout, output: output})

    %{dir: dir, builds: builds}
  end

  defp mix_batamanta(example, args, dir), do: Example.build(example, args, Path.join(dir, "tmp"))

  defp run(context, example, args) do
    cache = Path.join(context.dir, "cache-#{System.unique_integer([:positive])}")
    ErlangHidden.run(context.builds[example].binary, args, cache)
  end

  test "the build detects the escript format and leaves the project alone", context do
    output = context.builds["escript"].output
    assert output =~ "* built escript HelloEscript.CLI (MIX_ENV=prod"
    assert output =~ "left out batamanta"
    assert output =~ ~r/\* estimated size: about [\d.]+ MiB at zstd 3/
    assert output =~ "format       escript (hello_escript 0.1.0)"
    refute File.exists?(Path.join([Example.path("escript"), "hello_escript"]))
    refute File.exists?(Path.join([Example.path("escript"), "hello"]))
  end

  test "a second build with the same SOURCE_DATE_EPOCH is byte-identical", context do
    again = Path.join(context.dir, "escript-again")
    assert {_, 0} = mix_batamanta("escript", ["--output", again, "--quiet"], context.dir)
    assert File.read!(again) == File.read!(context.builds["escript"].binary)
  end

  test "the crypto variant warns that the target needs libcrypto", context do
    assert context.builds["escript_crypto"].output =~
             "warning: crypto.so loads libcrypto.so.3 from the system"
  end

  test "both formats record that crypto.so needs libcrypto.so.3", context do
    release = Path.join(context.dir, "escript_crypto-release")
    args = ["--format", "release", "--output", release]
    {output, status} = mix_batamanta("escript_crypto", args, context.dir)
    assert status == 0, "mix batamanta --format release failed:\n#{output}"
    assert output =~ ~r/warning: crypto\.so.* loads libcrypto\.so\.3 from the system/

    native = Native.start()

    try do
      for {binary, format} <- [
            {context.builds["escript_crypto"].binary, "escript"},
            {release, "release"}
          ] do
        assert {:ok, %{metadata: metadata}} = Inspection.read(native, binary, false)
        assert {"format", format} in metadata
        assert for({"needs", library} <- metadata, do: library) == ["libcrypto.so.3"]
      end
    after
      Native.close(native)
    end
  end

  test "--escript-module and --mode tui: that module's main/1 under the tui dispenser",
       context do
    output = context.builds["shout"].output
    assert output =~ "* built escript HelloEscript.Shout"
    assert output =~ ~r/^  mode         tui$/m
    assert {output, 0} = run(context, "shout", ["héllo", "a b"])
    assert output =~ "warning: stdin is not a terminal; starting without raw mode\n"
    assert output =~ "HÉLLO A B\n"
  end

  test "main/1 gets argv verbatim, with Erlang hidden", context do
    assert {output, 0} = run(context, "escript", ["args" | @torture])
    assert output == inspect(["args" | @torture]) <> "\n"
  end

  test "--help reaches main/1, not erl", context do
    assert {"usage: hello" <> _, 0} = run(context, "escript", ["--help"])
  end

  test "no arguments greets", context do
    assert {"Hello from a batamanta escript!\n", 0} = run(context, "escript", [])
  end

  test "System.halt/1 sets the exit status", context do
    assert {"", 3} = run(context, "escript", ["exit", "3"])
    assert {"", 0} = run(context, "escript", ["exit", "0"])
  end

  test "an uncaught error exits 1 with the error on stderr", context do
    assert {output, 1} = run(context, "escript", ["raise"])
    assert output =~ "hello was asked to raise"
  end

  test "the crypto variant prints SHA-256 digests", context do
    assert {output, 0} = run(context, "escript_crypto", ["héllo ✓", "", "a b"])

    expected = Enum.map_join(["héllo ✓", "", "a b"], &(sha256(&1) <> "\n"))

    assert output == expected
    assert {"usage: sha256 TEXT...\n", 2} = run(context, "escript_crypto", [])
  end

  defp sha256(text), do: Base.encode16(:crypto.hash(:sha256, text), case: :lower)
end
