defmodule Batamanta.DispenserTest do
  use ExUnit.Case, async: false

  alias Batamanta.{Dispenser, Products, Target}

  @drop_in Mix.Tasks.Compile.BatamantaNative.output_path("batamanta-dispenser-aarch64-linux-gnu")

  defp target(os, arch, libc) do
    %Target{os: os, arch: arch, libc: libc, triple: Target.triple(os, arch, libc)}
  end

  test "the compiled dispenser serves both libcs of this machine's arch" do
    assert {:ok, built} = Products.path("batamanta-dispenser")
    assert Dispenser.for_target(:cli, target(:linux, :x86_64, :gnu), :x86_64) == {:ok, built}
    assert Dispenser.for_target(:cli, target(:linux, :x86_64, :musl), :x86_64) == {:ok, built}
  end

  test "another arch needs a dispenser dropped into priv/bin, checked to be for that arch" do
    refute File.exists?(@drop_in)
    assert {:error, message} = Dispenser.for_target(:cli, target(:linux, :aarch64, :gnu), :x86_64)
    assert message =~ "target aarch64-linux-gnu needs a dispenser built for aarch64"
    assert message =~ @drop_in

    try do
      # An x86_64 file under the aarch64 name is caught.
      assert {:ok, built} = Products.path("batamanta-dispenser")
      File.cp!(built, @drop_in)

      assert {:error, message} =
               Dispenser.for_target(:cli, target(:linux, :aarch64, :gnu), :x86_64)

      assert message =~ "is not a 64-bit little-endian aarch64 ELF"

      header = <<0x7F, "ELF", 2, 1, 1, 0::unit(8)-size(9), 2::little-16, 183::little-16>>
      File.write!(@drop_in, header <> :binary.copy(<<0>>, 64))
      assert {:ok, path} = Dispenser.for_target(:cli, target(:linux, :aarch64, :gnu), :x86_64)
      assert File.read!(path) == File.read!(@drop_in)
    after
      File.rm(@drop_in)
    end
  end

  test "each mode has its own product" do
    assert {:ok, built} = Products.path("batamanta-dispenser-daemon")
    assert Dispenser.for_target(:daemon, target(:linux, :x86_64, :musl), :x86_64) == {:ok, built}

    assert {:error, message} =
             Dispenser.for_target(:tui, target(:linux, :aarch64, :musl), :x86_64)

    assert message =~ "priv/bin/batamanta-dispenser-tui-aarch64-linux-musl"
  end

  test "macOS and Windows are refused: the dispenser is Linux-only" do
    for {os, arch} <- [macos: :aarch64, macos: :x86_64, windows: :x86_64] do
      assert {:error, message} = Dispenser.for_target(:cli, target(os, arch, nil), :x86_64)
      assert message =~ "Linux-only"
      assert message =~ Target.triple(os, arch, nil)
    end
  end
end
