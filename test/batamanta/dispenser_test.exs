defmodule Batamanta.DispenserTest do
  use ExUnit.Case, async: false

  alias Batamanta.{Dispenser, Products, Target}
  alias Batamanta.Dispenser.Cross

  @cross Mix.Tasks.Compile.BatamantaNative.output_path("batamanta-dispenser-aarch64-linux")

  defp target(os, arch, libc) do
    %Target{os: os, arch: arch, libc: libc, triple: Target.triple(os, arch, libc)}
  end

  test "the compiled dispenser serves both libcs of this machine's arch" do
    assert {:ok, built} = Products.path("batamanta-dispenser")
    assert Dispenser.for_target(:cli, target(:linux, :x86_64, :gnu), :x86_64) == {:ok, built}
    assert Dispenser.for_target(:cli, target(:linux, :x86_64, :musl), :x86_64) == {:ok, built}
  end

  test "aarch64 takes the cross-built dispenser, checked to be for that arch" do
    assert {:ok, path} = Dispenser.for_target(:cli, target(:linux, :aarch64, :gnu), :x86_64)
    assert {:ok, path} == Products.path("batamanta-dispenser-aarch64-linux")
    assert Dispenser.for_target(:cli, target(:linux, :aarch64, :musl), :x86_64) == {:ok, path}
    original = File.read!(@cross)

    try do
      # An x86_64 file under the aarch64 name is caught.
      assert {:ok, built} = Products.path("batamanta-dispenser")
      File.cp!(built, @cross)

      assert {:error, message} =
               Dispenser.for_target(:cli, target(:linux, :aarch64, :gnu), :x86_64)

      assert message =~ "is not a 64-bit little-endian aarch64 ELF"
    after
      File.write!(@cross, original)
    end
  end

  test "the cross build names each missing input and the package it comes from" do
    sysroot = Path.join(System.tmp_dir!(), "batamanta-empty-sysroot")
    System.put_env("BATAMANTA_AARCH64_SYSROOT", sysroot)

    try do
      assert {:error, message} = Cross.build()
      assert message =~ "the aarch64 dispensers cannot be built"
      assert message =~ Path.join(sysroot, "usr/lib/aarch64-linux-musl/libc.a")
      assert message =~ "apt-get download musl-dev:arm64 libzstd-dev:arm64 libgcc-12-dev:arm64"
      assert message =~ "scripts/install-deps"
    after
      System.delete_env("BATAMANTA_AARCH64_SYSROOT")
    end
  end

  test "each mode has its own product" do
    assert {:ok, built} = Products.path("batamanta-dispenser-daemon")
    assert Dispenser.for_target(:daemon, target(:linux, :x86_64, :musl), :x86_64) == {:ok, built}

    assert {:ok, tui} = Dispenser.for_target(:tui, target(:linux, :aarch64, :musl), :x86_64)
    assert tui =~ "priv/bin/batamanta-dispenser-tui-aarch64-linux"
  end

  test "macOS and Windows are refused: the dispenser is Linux-only" do
    for {os, arch} <- [macos: :aarch64, macos: :x86_64, windows: :x86_64] do
      assert {:error, message} = Dispenser.for_target(:cli, target(os, arch, nil), :x86_64)
      assert message =~ "Linux-only"
      assert message =~ Target.triple(os, arch, nil)
    end
  end
end
