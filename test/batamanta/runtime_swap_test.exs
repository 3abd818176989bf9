defmodule Batamanta.RuntimeSwapTest do
  use ExUnit.Case, async: true

  alias Batamanta.{ERTS, RuntimeSwap, Staged, Target}

  @moduletag :tmp_dir
  @target %Target{os: :linux, arch: :x86_64, libc: :musl, triple: "x86_64-linux-musl"}

  defp write(path, contents) do
    File.mkdir_p!(Path.dirname(path))
    File.write!(path, contents)
  end

  # A release as mix release stages it, the host OTP it came from, and the target's.
  setup %{tmp_dir: dir} do
    rel = Path.join(dir, "rel")
    write("#{rel}/erts-13.1.5/bin/erl", "mix's relocatable erl")
    write("#{rel}/erts-13.1.5/bin/beam.smp", "host beam")
    write("#{rel}/erts-13.1.5/bin/host-only", "x")
    write("#{rel}/lib/crypto-5.1.2/ebin/crypto.beam", "beam")
    write("#{rel}/lib/crypto-5.1.2/priv/lib/crypto.so", "host nif")
    write("#{rel}/lib/hello-0.1.0/ebin/hello.beam", "beam")

    host = Path.join(dir, "host")
    File.mkdir_p!("#{host}/lib/crypto-5.1.2")

    target = Path.join(dir, "target")
    write("#{target}/erts-13.1.5/bin/erl", "installed erl with the cache's path")
    write("#{target}/erts-13.1.5/bin/beam.smp", "musl beam")
    write("#{target}/lib/crypto-5.1.2/priv/lib/crypto.so", "musl nif")

    %{
      release: %Staged{
        format: :release,
        name: "hello",
        path: rel,
        version: "0.1.0",
        erts_version: "13.1.5"
      },
      erts: %ERTS{root: target, erts_version: "13.1.5", otp_version: "25.2.3"},
      host: host
    }
  end

  test "swaps erts/bin (keeping mix's erl) and the priv/ of OTP applications", context do
    assert {:ok, ["crypto-5.1.2"]} =
             RuntimeSwap.swap(context.release, context.erts, @target, context.host)

    rel = context.release.path
    assert File.ls!("#{rel}/erts-13.1.5/bin") |> Enum.sort() == ["beam.smp", "erl"]
    assert File.read!("#{rel}/erts-13.1.5/bin/erl") == "mix's relocatable erl"
    assert File.read!("#{rel}/erts-13.1.5/bin/beam.smp") == "musl beam"
    assert File.read!("#{rel}/lib/crypto-5.1.2/priv/lib/crypto.so") == "musl nif"
    assert File.read!("#{rel}/lib/crypto-5.1.2/ebin/crypto.beam") == "beam"
  end

  test "native code in the project's own apps is refused", context do
    nif = Path.join(context.release.path, "lib/hello-0.1.0/priv/hello_nif.so")
    write(nif, <<0x7F, "ELF", 0::size(64)>>)

    assert {:error, message} =
             RuntimeSwap.swap(context.release, context.erts, @target, context.host)

    assert message =~ "lib/hello-0.1.0/priv/hello_nif.so was compiled on this machine"
    assert message =~ "on a x86_64-linux-musl machine"
    assert File.read!(Path.join(context.release.path, "erts-13.1.5/bin/beam.smp")) == "host beam"
  end

  test "an OTP application the target's OTP lacks is refused", context do
    File.rm_rf!(Path.join(context.erts.root, "lib/crypto-5.1.2"))

    assert {:error, message} =
             RuntimeSwap.swap(context.release, context.erts, @target, context.host)

    assert message =~ "the release uses crypto-5.1.2, which the OTP for x86_64-linux-musl"
  end
end
