defmodule Mix.Tasks.Batamanta.InspectTest do
  # Swaps the global Mix.shell/0 to capture what the task prints.
  use ExUnit.Case, async: false

  alias Batamanta.{Native, Products}

  @moduletag :tmp_dir

  @metadata [
    {"app", "tiny"},
    {"version", "1.2.3"},
    {"format", "release"},
    {"mode", "cli"},
    {"target", "x86_64-linux-gnu"},
    {"erts_version", "13.1.5"},
    {"otp_version", "25.2.3"},
    {"libc", "gnu 2.34"},
    {"exec", "bin/run"}
  ]

  setup %{tmp_dir: dir} do
    Mix.shell(Mix.Shell.Process)
    on_exit(fn -> Mix.shell(Mix.Shell.IO) end)
    %{binary: assemble(dir)}
  end

  # A real executable, assembled from a three-entry payload by the helper.
  defp assemble(dir) do
    source = Path.join(dir, "tree")
    File.mkdir_p!(Path.join(source, "bin"))
    File.write!(Path.join(source, "bin/run"), "#!/bin/sh\necho hi\n")
    File.chmod!(Path.join(source, "bin/run"), 0o755)
    File.ln_s!("bin/run", Path.join(source, "start"))

    native = Native.start(timeout: 30_000)
    payload = Path.join(dir, "payload.tar.zst")
    binary = Path.join(dir, "tiny")

    try do
      pack = %{source: source, output: payload, level: 3, mtime: 0}
      assert {:ok, packed} = Native.request(native, :pack, pack)

      assert {:ok, dispenser} = Products.path("batamanta-dispenser")

      args = %{
        dispenser: dispenser,
        payload: payload,
        output: binary,
        metadata: @metadata,
        uncompressed: packed.uncompressed
      }

      assert {:ok, _} = Native.request(native, :assemble, args)
      binary
    after
      Native.close(native)
    end
  end

  defp inspect_output(argv) do
    Mix.Tasks.Batamanta.Inspect.run(argv)
    receive_all([])
  end

  defp receive_all(acc) do
    receive do
      {:mix_shell, :info, [text]} -> receive_all([IO.chardata_to_string(text) | acc])
    after
      0 -> acc |> Enum.reverse() |> Enum.join("\n")
    end
  end

  test "shows the trailer and lists the payload", %{binary: binary} do
    output = inspect_output([binary])

    for expected <- [
          "#{binary}: batamanta executable, format version 1",
          "app           tiny 1.2.3",
          "format        release",
          "mode          cli",
          "target        x86_64-linux-gnu",
          "erts          13.1.5 (OTP 25.2.3)",
          "libc          gnu 2.34",
          "(9 records, 1 for the launch)",
          "payload: 3 entries",
          "drwxr-xr-x          0  bin/",
          "-rwxr-xr-x         18  bin/run",
          "lrwxrwxrwx          0  start -> bin/run"
        ],
        do: assert(output =~ expected)

    assert output =~ ~r/content hash  [0-9a-f]{64}/
    assert output =~ ~r/payload       \d+ B at offset \d+ \(\d+\.\d KiB uncompressed, ratio/
  end

  test "--no-list prints the header only", %{binary: binary} do
    output = inspect_output(["--no-list", binary])
    assert output =~ "app           tiny 1.2.3"
    refute output =~ "payload: "
  end

  test "a binary without a payload fails clearly" do
    message = assert_raise(Mix.Error, fn -> inspect_output(["/bin/sh"]) end).message
    assert message =~ "/bin/sh has no batamanta payload"
  end

  test "a corrupted payload fails on listing", %{binary: binary} do
    %{size: size} = File.stat!(binary)
    {:ok, file} = :file.open(binary, [:read, :write, :binary])
    :ok = :file.pwrite(file, size - 300, "garbage")
    :ok = :file.close(file)

    message = assert_raise(Mix.Error, fn -> inspect_output([binary]) end).message
    assert message =~ "cannot inspect #{binary}"
  end

  test "usage errors" do
    assert_raise Mix.Error, ~r/takes one path/, fn -> inspect_output([]) end
    assert_raise Mix.Error, ~r/unknown flag --all/, fn -> inspect_output(["--all", "x"]) end
    assert_raise Mix.Error, ~r/does not exist/, fn -> inspect_output(["/nonexistent/bin"]) end
  end
end
