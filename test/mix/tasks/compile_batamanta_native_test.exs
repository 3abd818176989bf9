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

  test "other failures get no hint" do
    assert BatamantaNative.hint("error: cannot find 'foo' in scope") == ""
  end
end
