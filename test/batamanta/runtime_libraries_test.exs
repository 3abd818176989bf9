defmodule Batamanta.RuntimeLibrariesTest do
  use ExUnit.Case, async: true

  alias Batamanta.RuntimeLibraries

  test "a missing library is named with the package that provides it" do
    ldd = """
    \tlinux-vdso.so.1 (0x00007ffd)
    \tlibcurl.so.4 => not found
    \tlibzstd.so.1 => not found
    \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)
    """

    assert [curl, zstd] = RuntimeLibraries.problems(ldd)
    assert curl =~ "libcurl.so.4 is missing: install libcurl4"
    assert zstd == "libzstd.so.1 is missing: install libzstd1"
  end

  test "a glibc older than the build machine's is named once" do
    ldd = """
    ./batamanta-native: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.36' not found (required by ./batamanta-native)
    ./batamanta-native: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.36' not found (required by ./batamanta-native)
    \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)
    """

    assert RuntimeLibraries.problems(ldd) == [
             "GLIBC_2.36 is not available: this system's libc is older than the build machine's"
           ]
  end

  test "the helper built here loads" do
    assert RuntimeLibraries.problems(elem(System.cmd("ldd", [helper()]), 0)) == []
    assert RuntimeLibraries.check!(helper()) == :ok
  end

  defp helper, do: Mix.Tasks.Compile.BatamantaNative.output_path("batamanta-native")
end
