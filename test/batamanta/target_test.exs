defmodule Batamanta.TargetTest do
  use ExUnit.Case, async: true

  alias Batamanta.{Config, Target}

  @host %{os: :linux, arch: :x86_64, libc: :gnu}

  defp resolve(opts, host \\ @host) do
    Target.resolve(struct(Config, opts), host)
  end

  test "auto is the host" do
    assert {:ok, target} = resolve([])
    assert %Target{triple: "x86_64-linux-gnu", suffix: "-x86_64-linux", host?: true} = target
  end

  test "named targets" do
    expected = %{
      ubuntu_22_04_x86_64: {"x86_64-linux-gnu", "-x86_64-linux"},
      ubuntu_22_04_arm64: {"aarch64-linux-gnu", "-aarch64-linux"},
      alpine_3_19_x86_64: {"x86_64-linux-musl", "-x86_64-linux-musl"},
      alpine_3_19_arm64: {"aarch64-linux-musl", "-aarch64-linux-musl"},
      macos_12_x86_64: {"x86_64-macos", "-x86_64-macos"},
      macos_12_arm64: {"aarch64-macos", "-aarch64-macos"},
      windows_x86_64: {"x86_64-windows", "-x86_64-windows.exe"}
    }

    for {name, {triple, suffix}} <- expected do
      assert {:ok, %Target{triple: ^triple, suffix: ^suffix}} = resolve(erts_target: name)
    end

    assert {:ok, %Target{host?: true}} = resolve(erts_target: :ubuntu_22_04_x86_64)
    assert {:ok, %Target{host?: false}} = resolve(erts_target: :alpine_3_19_x86_64)
  end

  test "force_* override parts of the target" do
    assert {:ok, %Target{triple: "x86_64-linux-musl"}} = resolve(force_libc: :musl)
    assert {:ok, %Target{triple: "aarch64-linux-gnu"}} = resolve(force_arch: :aarch64)

    assert {:ok, %Target{triple: "aarch64-macos"}} =
             resolve(erts_target: :ubuntu_22_04_arm64, force_os: :macos)
  end

  test "a musl host" do
    assert {:ok, %Target{triple: "aarch64-linux-musl", host?: true}} =
             resolve([], %{os: :linux, arch: :aarch64, libc: :musl})
  end

  test "invalid combinations name the option and the valid values" do
    assert {:error, message} = resolve(force_os: :macos, force_libc: :musl)
    assert message =~ "force_libc"
    assert message =~ ":gnu, :musl"

    assert {:error, message} = resolve(erts_target: :windows_x86_64, force_arch: :aarch64)
    assert message =~ "force_arch"

    assert {:error, message} = resolve(erts_target: :windows_x86_64, execution_mode: :tui)
    assert message =~ ":tui"

    assert {:error, message} = resolve(erts_target: :windows_x86_64, execution_mode: :daemon)
    assert message =~ "execution_mode: :daemon"
    assert message =~ "Unix"
  end

  describe "libc_warning/3" do
    @macos %{os: :macos, arch: :aarch64, libc: nil}

    defp warning(opts, host) do
      config = struct(Config, opts)
      {:ok, target} = Target.resolve(config, host)
      Target.libc_warning(config, target, host)
    end

    test "a libc nobody chose that differs from the host's is warned about" do
      message = warning([force_os: :linux], @macos)
      assert message =~ "target aarch64-linux-gnu uses glibc"
      assert message =~ "(macos) has no Linux libc"
      assert message =~ "force_libc"

      # A named target without a libc, turned into Linux: the libc is still a default.
      assert warning([erts_target: :macos_12_x86_64, force_os: :linux], @macos) =~ "glibc"
    end

    test "force_libc and a named target that fixes the libc are explicit" do
      assert warning([force_os: :linux, force_libc: :gnu], @macos) == nil
      assert warning([erts_target: :ubuntu_22_04_arm64], @macos) == nil
      assert warning([erts_target: :alpine_3_19_x86_64], @host) == nil
      assert warning([force_libc: :musl], @host) == nil
    end

    test "no warning when the libc matches the host's or the target has none" do
      assert warning([], @host) == nil
      assert warning([force_arch: :aarch64], @host) == nil
      assert warning([erts_target: :ubuntu_22_04_x86_64], @host) == nil
      assert warning([erts_target: :macos_12_arm64], @host) == nil
    end
  end

  test "runtime_libc_warning/2 flags a runtime of the other libc" do
    {:ok, musl} = resolve(erts_target: :alpine_3_19_x86_64)
    {:ok, gnu} = resolve([])
    assert Target.runtime_libc_warning(musl, "gnu 2.34") =~ "needs gnu 2.34, not musl"
    assert Target.runtime_libc_warning(gnu, "musl") =~ "not glibc"
    assert Target.runtime_libc_warning(musl, "musl") == nil
    assert Target.runtime_libc_warning(gnu, "gnu 2.34") == nil
    assert Target.runtime_libc_warning(musl, "none") == nil
  end
end
