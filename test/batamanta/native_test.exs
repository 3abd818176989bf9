defmodule Batamanta.NativeTest do
  # Runs against the real helper built by `mix compile` (or $BATAMANTA_NATIVE).
  use ExUnit.Case, async: true

  alias Batamanta.{Native, Products}

  setup do
    native = Native.start(timeout: 30_000)
    on_exit(fn -> Native.close(native) end)
    %{native: native}
  end

  test "ping", %{native: native} do
    assert {:ok, %{protocol: 1, version: version}} = Native.request(native, :ping, %{})
    assert is_binary(version)
  end

  test "host_info describes this machine", %{native: native} do
    assert {:ok, info} = Native.request(native, :host_info, %{})
    assert info.os == "linux"

    assert info.arch ==
             to_string(:erlang.system_info(:system_architecture)) |> String.split("-") |> hd()

    assert info.libc in ["gnu", "musl"]
    assert info.libc_source in ["ldd", "loader", "os-release", "maps", "default"]

    if info.libc == "gnu", do: assert(info.libc_version =~ ~r/^2\.\d+$/)
  end

  @tag :tmp_dir
  test "host_info on an empty root falls back to glibc and says why", %{
    native: native,
    tmp_dir: dir
  } do
    assert {:ok, info} = Native.request(native, :host_info, %{root: dir})
    assert info.libc == "gnu"
    assert info.libc_source == "default"
    assert info.note =~ "assumed glibc under #{dir}"
    assert info.note =~ "ldd --version gave no clear answer"
    assert info.note =~ "no unambiguous ld-musl/ld-linux loader"
  end

  test "sanitize_env prepends PATH, sets MIX_ENV=prod and unsets VM flags", %{native: native} do
    env = [
      {"PATH", "/usr/bin:/bin"},
      {"MIX_ENV", "dev"},
      {"ERL_AFLAGS", "-this-breaks-the-vm"},
      {"HOME", "/root"}
    ]

    assert {:ok, %{set: set, unset: unset}} =
             Native.request(native, :sanitize_env, %{env: env, prepend_path: ["/opt/otp/bin"]})

    set = Map.new(set)
    assert set["MIX_ENV"] == "prod"
    assert String.starts_with?(set["PATH"], "/opt/otp/bin:")
    assert "ERL_AFLAGS" in unset
  end

  test "a malformed packet gets an error reply and the helper keeps serving", %{native: native} do
    Port.command(native.port, <<0xFF, 0x00, 0x13, 0x37>>)
    assert {0, {:error, :bad_request, message}} = next_reply(native)
    assert is_binary(message)

    Port.command(native.port, :erlang.term_to_binary({:not, :a, :request, :at_all}))
    assert {_, {:error, :bad_request, _}} = next_reply(native)

    assert {:ok, %{protocol: 1}} = Native.request(native, :ping, %{})
  end

  test "an unknown command", %{native: native} do
    assert {:error, :unknown_command, message} = Native.request(native, :frobnicate, %{})
    assert message =~ "frobnicate"
    assert {:ok, _} = Native.request(native, :ping, %{})
  end

  test "a missing argument is :invalid_argument", %{native: native} do
    assert {:error, :invalid_argument, _} = Native.request(native, :pack, %{})
  end

  @tag :tmp_dir
  test "pack is deterministic and reports progress", %{native: native, tmp_dir: dir} do
    source = Path.join(dir, "src")
    File.mkdir_p!(Path.join(source, "b"))
    File.write!(Path.join(source, "a.txt"), String.duplicate("batamanta ", 1000))
    File.write!(Path.join(source, "b/run"), "#!/bin/sh\n")
    File.chmod!(Path.join(source, "b/run"), 0o755)
    File.ln_s!("../a.txt", Path.join(source, "b/link"))

    pack = fn output ->
      me = self()
      args = %{source: source, output: output, level: 3, mtime: 0}
      assert {:ok, result} = Native.request(native, :pack, args, &send(me, {:progress, &1}))
      result
    end

    first = pack.(Path.join(dir, "1.tar.zst"))
    File.touch!(Path.join(source, "a.txt"), 1_000_000)
    second = pack.(Path.join(dir, "2.tar.zst"))

    assert first.entries >= 4
    assert first == second
    assert File.read!(Path.join(dir, "1.tar.zst")) == File.read!(Path.join(dir, "2.tar.zst"))

    # The helper always sends the final report, and it arrives before the result.
    for _ <- [first, second] do
      assert_received {:progress, %{stage: "pack", done: done, total: done}} when done > 0
    end
  end

  test "EOF on stdin ends the helper with status 0" do
    assert {_, 0} = System.cmd("sh", ["-c", ~s("$0" </dev/null), Products.native_helper!()])
  end

  describe "helper failures are values" do
    @describetag :tmp_dir

    test "a helper that dies gives :helper_crashed with the status", %{tmp_dir: dir} do
      native = Native.open(script(dir, "exit 7"))
      assert {:error, :helper_crashed, message} = Native.request(native, :ping, %{})
      assert message =~ "exit status 7"
      assert {:error, :helper_crashed, _} = Native.request(native, :ping, %{})
    end

    test "a helper that does not answer times out", %{tmp_dir: dir} do
      native = Native.open(script(dir, "exec sleep 5"), timeout: 100)
      assert {:error, :timeout, message} = Native.request(native, :ping, %{})
      assert message =~ "100 ms"
      Native.close(native)
    end
  end

  defp next_reply(%Native{port: port}) do
    receive do
      {^port, {:data, data}} -> :erlang.binary_to_term(data)
    after
      10_000 -> flunk("no reply from the helper")
    end
  end

  defp script(dir, body) do
    path = Path.join(dir, "helper-#{System.unique_integer([:positive])}")
    File.write!(path, "#!/bin/sh\n#{body}\n")
    File.chmod!(path, 0o755)
    path
  end
end
