defmodule Batamanta.NativeArtifactsTest do
  use ExUnit.Case, async: true

  alias Batamanta.NativeArtifacts

  @moduletag :tmp_dir

  test "host triples from the VM's system architecture" do
    assert NativeArtifacts.host_triple(~c"x86_64-pc-linux-gnu") == "x86_64-linux-gnu"
    assert NativeArtifacts.host_triple(~c"aarch64-unknown-linux-gnu") == "aarch64-linux-gnu"
    assert NativeArtifacts.host_triple(~c"x86_64-alpine-linux-musl") == "x86_64-linux-musl"
    assert NativeArtifacts.host_triple(~c"aarch64-apple-darwin23.1.0") == "aarch64-macos"
  end

  defp package(dir) do
    bin = Path.join(dir, "bin")
    File.mkdir_p!(bin)
    File.write!(Path.join(bin, "batamanta-native"), "helper")
    File.write!(Path.join(bin, "batamanta-dispenser"), "dispenser")
    root = Path.join(dir, "pkg")
    executables = Enum.map(["batamanta-native", "batamanta-dispenser"], &Path.join(bin, &1))
    :ok = NativeArtifacts.write!(root, executables, "x86_64-linux-gnu")
    root
  end

  test "write! records every file in a sha256sum manifest; for_host reads it back", %{
    tmp_dir: dir
  } do
    root = package(dir)

    assert File.read!(NativeArtifacts.manifest_path(root)) ==
             "#{sha256("dispenser")}  x86_64-linux-gnu/batamanta-dispenser\n" <>
               "#{sha256("helper")}  x86_64-linux-gnu/batamanta-native\n"

    assert {:ok, entries} = NativeArtifacts.for_host(root, "x86_64-linux-gnu")
    assert Enum.map(entries, & &1.name) == ["batamanta-dispenser", "batamanta-native"]
    assert NativeArtifacts.verify(entries) == :ok
    assert File.stat!(hd(entries).path).mode |> Bitwise.band(0o777) == 0o755
  end

  test "another host gets the hosts there are; a checkout has none", %{tmp_dir: dir} do
    root = package(dir)
    assert NativeArtifacts.for_host(root, "aarch64-linux-gnu") == {:error, ["x86_64-linux-gnu"]}

    assert NativeArtifacts.for_host(Path.join(dir, "checkout"), "x86_64-linux-gnu") ==
             {:error, []}
  end

  test "a changed or missing artifact is refused, naming the file", %{tmp_dir: dir} do
    root = package(dir)
    {:ok, entries} = NativeArtifacts.for_host(root, "x86_64-linux-gnu")
    helper = Path.join(NativeArtifacts.dir(root), "x86_64-linux-gnu/batamanta-native")

    File.write!(helper, "helper!")
    assert {:error, message} = NativeArtifacts.verify(entries)
    assert message =~ "prebuilt artifact #{helper} does not match its checksum in MANIFEST"
    assert message =~ "expected sha256 #{sha256("helper")}, found #{sha256("helper!")}"

    File.rm!(helper)
    assert {:error, message} = NativeArtifacts.verify(entries)
    assert message =~ "prebuilt artifact #{helper}, listed in MANIFEST, cannot be read"
  end

  defp sha256(data), do: :crypto.hash(:sha256, data) |> Base.encode16(case: :lower)
end
