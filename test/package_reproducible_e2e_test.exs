defmodule Batamanta.PackageReproducibleE2ETest do
  # Two `scripts/package` runs, from two checkouts at different paths, into two
  # directories, at different times: the prebuilt artifacts are the same bytes (issue 11).
  use ExUnit.Case, async: false

  alias Batamanta.Test.Package

  @moduletag :e2e
  @moduletag timeout: 1_200_000

  setup do
    dir =
      Path.join(System.tmp_dir!(), "batamanta-pkg-repro-#{System.unique_integer([:positive])}")

    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)
    %{dir: dir}
  end

  # The files git would give a fresh clone, without this checkout's build outputs, so
  # the copy's Swift build starts from nothing at its own path.
  defp copy_checkout(destination) do
    {files, 0} =
      System.cmd("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cd: Package.checkout()
      )

    for relative <- String.split(files, <<0>>, trim: true),
        source = Path.join(Package.checkout(), relative),
        match?({:ok, _}, File.lstat(source)) do
      target = Path.join(destination, relative)
      File.mkdir_p!(Path.dirname(target))

      case File.lstat!(source) do
        %File.Stat{type: :symlink} ->
          File.ln_s!(File.read_link!(source), target)

        %File.Stat{mode: mode} ->
          File.cp!(source, target)
          File.chmod!(target, mode)
      end
    end

    destination
  end

  # Where two builds of an artifact part: the first differing byte and the ELF section
  # holding it, so a failure says what to look at.
  defp difference(relative, one, two) do
    a = File.read!(one)
    b = File.read!(two)

    common = min(byte_size(a), byte_size(b))
    offset = Enum.find(0..(common - 1)//1, common, &(:binary.at(a, &1) != :binary.at(b, &1)))

    "#{relative}: #{byte_size(a)} vs #{byte_size(b)} bytes, first differing byte at " <>
      "#{offset}, in #{section(one, offset)}"
  end

  defp section(path, offset) do
    {table, _} = System.cmd("readelf", ["-S", "-W", path], stderr_to_stdout: true)

    Enum.find_value(String.split(table, "\n"), "the ELF headers", fn line ->
      case Regex.run(~r/\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+([0-9a-f]+)\s+([0-9a-f]+)/, line) do
        [_, name, start, size] ->
          {start, _} = Integer.parse(start, 16)
          {size, _} = Integer.parse(size, 16)
          if offset >= start and offset < start + size, do: name

        nil ->
          nil
      end
    end)
  end

  test "artifacts from two checkouts at different paths and times are byte-identical",
       %{dir: dir} do
    first = Path.join(dir, "one")
    Package.build!(first)
    Process.sleep(1_100)

    copy = copy_checkout(Path.join(dir, "a/much/longer/path/to/batamanta"))
    second = Path.join(dir, "two")
    Package.build!(second, copy)

    manifest = Package.manifest(first)

    differences =
      for line <- String.split(manifest, "\n", trim: true),
          [_sha256, relative] = String.split(line, "  "),
          one = Path.join([first, "priv/native", relative]),
          two = Path.join([second, "priv/native", relative]),
          File.read!(one) != File.read!(two),
          do: difference(relative, one, two)

    assert differences == []
    assert manifest == Package.manifest(second)

    names = manifest |> String.split("\n", trim: true) |> Enum.map(&Path.basename/1)

    for output <- Mix.Tasks.Compile.BatamantaNative.source_outputs() do
      assert Path.basename(output) in names, "#{output} is not in the package's MANIFEST"
    end

    assert Enum.any?(names, &String.ends_with?(&1, "-aarch64-linux"))
  end
end
