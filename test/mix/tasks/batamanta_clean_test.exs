defmodule Mix.Tasks.Batamanta.CleanTest do
  use ExUnit.Case, async: false

  alias Batamanta.Native

  setup do
    dir = Path.join(System.tmp_dir!(), "batamanta-clean-#{System.unique_integer([:positive])}")
    extractions = Path.join(dir, "extractions")
    xdg = Path.join(dir, "xdg")
    File.mkdir_p!(extractions)
    Mix.shell(Mix.Shell.Process)

    previous = Map.new(~w(BATAMANTA_CACHE_DIR XDG_CACHE_HOME), &{&1, System.get_env(&1)})
    System.put_env("BATAMANTA_CACHE_DIR", extractions)
    System.put_env("XDG_CACHE_HOME", xdg)

    on_exit(fn ->
      Enum.each(previous, fn
        {name, nil} -> System.delete_env(name)
        {name, value} -> System.put_env(name, value)
      end)

      Mix.shell(Mix.Shell.IO)
      File.rm_rf!(dir)
    end)

    %{
      extractions: extractions,
      erts: Path.join(xdg, "batamanta/erts"),
      frames: Path.join(xdg, "batamanta/frames")
    }
  end

  defp extraction(root, name, marker \\ "app=hello\nname=x\n") do
    path = Path.join(root, name)
    File.mkdir_p!(Path.join(path, "bin"))
    File.write!(Path.join(path, "bin/payload"), String.duplicate("x", 4096))
    if marker, do: File.write!(Path.join(path, ".batamanta-extraction"), marker)
    path
  end

  test "removes only unused, marked extractions and the ERTS cache", context do
    unused = extraction(context.extractions, "hello-0.1.0-0123456789abcdef")
    in_use = extraction(context.extractions, "hello-0.2.0-0123456789abcdef")
    unmarked = extraction(context.extractions, "notes-1.0-0123456789abcdef", nil)
    foreign = extraction(context.extractions, "my-files")
    leftover = extraction(context.extractions, ".batamanta-tmp-abc123", nil)
    File.mkdir_p!(Path.join(context.erts, "x86_64-linux-gnu/OTP-25.2.3"))
    File.mkdir_p!(context.frames)
    File.write!(Path.join(context.frames, "#{String.duplicate("ab", 32)}.zst"), "frame")

    # A running binary holds a lock on its extraction.
    holder = Native.start()
    {:ok, _} = Native.request(holder, :lock, %{path: in_use})

    try do
      Mix.Tasks.Batamanta.Clean.run([])
    after
      Native.close(holder)
    end

    refute File.exists?(unused)
    refute File.exists?(leftover)
    assert File.exists?(in_use)
    assert File.exists?(unmarked)
    assert File.exists?(foreign)
    refute File.exists?(context.erts)
    refute File.exists?(context.frames)

    assert_received {:mix_shell, :info, ["erts: removed " <> erts]}
    assert_received {:mix_shell, :info, ["frames: removed " <> frames]}
    assert String.ends_with?(frames, " (5 B)")
    # The erts cache holds only empty directories: sizes under 1 KiB are shown in bytes.
    assert String.ends_with?(erts, " (0 B)")
    assert_received {:mix_shell, :info, ["extractions: removed 2 from " <> message]}
    assert message =~ "kept 1 in use"
  end

  test "--erts leaves extractions and frames alone, --frames the rest", context do
    marked = extraction(context.extractions, "hello-0.1.0-0123456789abcdef")
    File.mkdir_p!(context.erts)
    File.mkdir_p!(context.frames)
    Mix.Tasks.Batamanta.Clean.run(["--erts"])
    assert File.exists?(marked)
    assert File.exists?(context.frames)
    refute File.exists?(context.erts)
    File.mkdir_p!(context.erts)
    Mix.Tasks.Batamanta.Clean.run(["--frames"])
    assert File.exists?(marked)
    assert File.exists?(context.erts)
    refute File.exists?(context.frames)
  end
end
