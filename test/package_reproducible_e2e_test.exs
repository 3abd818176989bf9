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

  test "artifacts from two checkouts at different paths and times are byte-identical",
       %{dir: dir} do
    first = Path.join(dir, "one")
    Package.build!(first)
    Process.sleep(1_100)

    copy = copy_checkout(Path.join(dir, "a/much/longer/path/to/batamanta"))
    second = Path.join(dir, "two")
    Package.build!(second, copy)

    manifest = Package.manifest(first)
    assert manifest == Package.manifest(second)

    for line <- String.split(manifest, "\n", trim: true) do
      [_sha256, relative] = String.split(line, "  ")
      one = File.read!(Path.join([first, "priv/native", relative]))
      assert one == File.read!(Path.join([second, "priv/native", relative])), relative
    end

    names = manifest |> String.split("\n", trim: true) |> Enum.map(&Path.basename/1)

    for output <- Mix.Tasks.Compile.BatamantaNative.source_outputs() do
      assert Path.basename(output) in names, "#{output} is not in the package's MANIFEST"
    end

    assert Enum.any?(names, &String.ends_with?(&1, "-aarch64-linux"))
  end
end
