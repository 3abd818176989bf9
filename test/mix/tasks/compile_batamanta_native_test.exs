defmodule Mix.Tasks.Compile.BatamantaNativeTest do
  use ExUnit.Case, async: true

  alias Mix.Tasks.Compile.BatamantaNative

  test "a missing libc header points at musl-dev" do
    output = "Sources/CLibc/CLibc.c:3:10: fatal error: 'dirent.h' file not found"
    assert BatamantaNative.hint(output) =~ "install musl-dev"
  end

  test "a missing ei, zstd or curl header points at the -dev packages" do
    for header <- ~w(ei.h zstd.h curl/curl.h) do
      output = "shim.h:1:10: fatal error: '#{header}' file not found"
      assert BatamantaNative.hint(output) =~ "erlang-dev libzstd-dev libcurl4-openssl-dev"
    end
  end

  describe "the Swift toolchain" do
    setup do
      dir = Path.join(System.tmp_dir!(), "batamanta-swift-#{System.unique_integer([:positive])}")
      File.mkdir_p!(dir)
      on_exit(fn -> File.rm_rf!(dir) end)
      swift = Path.join(dir, "swift")
      File.write!(swift, "#!/bin/sh\n")
      File.chmod!(swift, 0o755)
      %{dir: dir, swift: swift}
    end

    test "is swift on PATH, or SWIFT as a path or a name on PATH", %{dir: dir, swift: swift} do
      assert BatamantaNative.swift_executable(%{"PATH" => "/nonexistent:#{dir}"}) == swift
      assert BatamantaNative.swift_executable(%{"SWIFT" => swift, "PATH" => ""}) == swift
      assert BatamantaNative.swift_executable(%{"SWIFT" => "swift", "PATH" => dir}) == swift
    end

    test "no Swift says how to get one", %{dir: dir} do
      error =
        assert_raise Mix.Error, fn ->
          BatamantaNative.swift_executable(%{"PATH" => "/nonexistent"})
        end

      assert error.message =~ "needs a Swift 6 toolchain"
      assert error.message =~ "`swift` is not on PATH"
      assert error.message =~ "https://www.swift.org/install/"
      assert error.message =~ "SWIFT=/opt/swift/usr/bin/swift mix compile"

      missing = Path.join(dir, "nope")

      error =
        assert_raise Mix.Error, fn -> BatamantaNative.swift_executable(%{"SWIFT" => missing}) end

      assert error.message =~ "SWIFT=#{missing} is not an executable"

      File.write!(missing, "not executable")

      assert_raise Mix.Error, ~r/SWIFT=.* is not an executable/, fn ->
        BatamantaNative.swift_executable(%{"SWIFT" => missing})
      end

      assert_raise Mix.Error, ~r/SWIFT is set but empty/, fn ->
        BatamantaNative.swift_executable(%{"SWIFT" => "", "PATH" => dir})
      end
    end
  end

  test "BATAMANTA_SWIFT_SCRATCH moves SwiftPM's scratch dir, relative to batamanta" do
    assert BatamantaNative.scratch_args(%{}) == []
    assert BatamantaNative.scratch_args(%{"BATAMANTA_SWIFT_SCRATCH" => ""}) == []

    assert BatamantaNative.scratch_args(%{"BATAMANTA_SWIFT_SCRATCH" => "/s/x"}) ==
             ["--scratch-path", "/s/x"]

    assert BatamantaNative.scratch_args(%{"BATAMANTA_SWIFT_SCRATCH" => "rel"}) ==
             ["--scratch-path", Path.join(BatamantaNative.root(), "rel")]
  end

  test "other failures get no hint" do
    assert BatamantaNative.hint("error: cannot find 'foo' in scope") == ""
  end
end
