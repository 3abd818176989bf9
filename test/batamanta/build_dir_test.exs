defmodule Batamanta.BuildDirTest do
  use ExUnit.Case, async: true

  alias Batamanta.BuildDir

  @moduletag :tmp_dir

  test "create/1 makes a new, owner-only directory each time", %{tmp_dir: tmp} do
    {:ok, first} = BuildDir.create(tmp)
    {:ok, second} = BuildDir.create(tmp)
    assert first != second
    assert Path.dirname(first) == tmp

    for dir <- [first, second] do
      assert %File.Stat{type: :directory, mode: mode} = File.lstat!(dir)
      assert Bitwise.band(mode, 0o777) == 0o700
    end
  end

  test "create/1 names the directory it cannot write to", %{tmp_dir: tmp} do
    missing = Path.join(tmp, "missing")
    assert {:error, message} = BuildDir.create(missing)
    assert message =~ missing
    assert message =~ "TMPDIR"
  end

  test "check_output/1 refuses a directory", %{tmp_dir: tmp} do
    assert {:error, message} = BuildDir.check_output(tmp)
    assert message =~ "is a directory"
    assert BuildDir.check_output(Path.join(tmp, "hello")) == :ok
  end
end
