defmodule Batamanta.ExtractionCacheTest do
  use ExUnit.Case, async: true

  alias Batamanta.{ExtractionCache, Native}

  {uid, 0} = System.cmd("id", ["-u"])
  @uid String.trim(uid)

  describe "dirs/1 follows the Cache section of docs/FORMAT.md" do
    test "an explicit BATAMANTA_CACHE_DIR is the only one" do
      env = %{"BATAMANTA_CACHE_DIR" => "/c", "XDG_CACHE_HOME" => "/x", "HOME" => "/h"}
      assert ExtractionCache.dirs(env) == ["/c"]
    end

    test "XDG_CACHE_HOME, then HOME, each with the private TMPDIR fallback" do
      assert ExtractionCache.dirs(%{"XDG_CACHE_HOME" => "/x", "HOME" => "/h", "TMPDIR" => "/t"}) ==
               ["/x/batamanta", "/t/batamanta-#{@uid}"]

      assert ExtractionCache.dirs(%{"XDG_CACHE_HOME" => "relative", "HOME" => "/h"}) ==
               ["/h/.cache/batamanta", "/tmp/batamanta-#{@uid}"]
    end

    test "empty variables count as unset" do
      env = %{"BATAMANTA_CACHE_DIR" => "", "XDG_CACHE_HOME" => "", "HOME" => "", "TMPDIR" => ""}
      assert ExtractionCache.dirs(env) == ["/tmp/batamanta-#{@uid}"]
    end
  end

  test "remove_unused/2 removes a .batamanta-new- dir only once it is abandoned" do
    dir = Path.join(System.tmp_dir!(), "batamanta-xc-#{System.unique_integer([:positive])}")
    on_exit(fn -> File.rm_rf!(dir) end)
    old = Path.join(dir, ".batamanta-new-old")
    fresh = Path.join(dir, ".batamanta-new-fresh")
    File.mkdir_p!(old)
    File.mkdir_p!(fresh)
    File.touch!(old, System.os_time(:second) - 120)
    native = Native.start()

    try do
      assert %{removed: [0], busy: 0} = ExtractionCache.remove_unused(native, dir)
    after
      Native.close(native)
    end

    refute File.exists?(old)
    assert File.exists?(fresh)
    refute Enum.any?(File.ls!(dir), &String.starts_with?(&1, ".batamanta-trash-"))
  end
end
