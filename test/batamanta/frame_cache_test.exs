defmodule Batamanta.FrameCacheTest do
  use ExUnit.Case, async: true

  alias Batamanta.{FrameCache, Staged}

  @moduletag :tmp_dir

  test "the first frame is the runtime: ERTS and every application not the project's",
       %{tmp_dir: dir} do
    for lib <- ~w(kernel-8.5.3 elixir-1.14.0 my_app-0.1.0 jason-1.4.0 web_ui-2.0.0-rc.1) do
      File.mkdir_p!(Path.join([dir, "lib", lib]))
    end

    staged = %Staged{path: dir, erts_version: "13.1.5"}

    assert FrameCache.first_frame(staged, [:my_app, :jason, :web_ui]) ==
             ["erts-13.1.5", "lib/elixir-1.14.0", "lib/kernel-8.5.3"]
  end

  test "prune keeps the eight most recently used frames", %{tmp_dir: dir} do
    for n <- 1..11 do
      path = Path.join(dir, "#{n}.zst")
      File.write!(path, "frame")
      File.touch!(path, 1_700_000_000 + n)
    end

    File.write!(Path.join(dir, "notes.txt"), "not a frame")
    assert FrameCache.prune(dir) == :ok
    assert Enum.sort(File.ls!(dir)) == Enum.sort(["notes.txt" | Enum.map(4..11, &"#{&1}.zst")])
    assert FrameCache.prune(Path.join(dir, "missing")) == :ok
  end
end
