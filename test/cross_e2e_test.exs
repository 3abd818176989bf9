defmodule Batamanta.CrossE2ETest do
  # Builds examples/hello_cli and examples/escript for x86_64-linux-musl from a local
  # mirror. The mirror's "musl" OTP is really this machine's (a fixture with a marker
  # file in its erts bin), so the binaries run here and the marker proves the runtime
  # was swapped in. Also: the refusals for targets this machine cannot build.
  use ExUnit.Case, async: false

  alias Batamanta.Native
  alias Batamanta.Test.{HTTPServer, OTPFixture}

  @moduletag :e2e
  @moduletag timeout: 600_000

  @examples Path.expand("../examples", __DIR__)
  @triple "x86_64-linux-musl"

  setup_all do
    dir = Path.join(System.tmp_dir!(), "batamanta-cross-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    version = OTPFixture.host_version()
    {tarball, sha} = OTPFixture.tarball(dir)

    # The list fails once: the retry must not reach a --quiet build's output.
    server =
      HTTPServer.start(%{
        "/m/#{@triple}/SHA256SUMS" => [
          {:status, 500},
          {:body, "#{sha}  OTP-#{version}.tar.gz\n"}
        ],
        "/m/#{@triple}/OTP-#{version}.tar.gz" => [{:file, tarball}],
        "/old/#{@triple}/SHA256SUMS" => [{:body, "#{sha}  OTP-25.0.1.tar.gz\n"}]
      })

    binary = Path.join([@examples, "hello_cli", "hello-0.1.0-#{@triple}"])
    escript = Path.join([@examples, "escript", "hello-0.1.0-#{@triple}"])

    on_exit(fn ->
      HTTPServer.stop(server)
      File.rm_rf!(dir)
      File.rm(binary)
      File.rm(escript)
    end)

    context = %{dir: dir, version: version, server: server, binary: binary, escript: escript}
    source = HTTPServer.url(server, "/m")
    args = ["--erts-target", "alpine_3_19_x86_64", "--erts-source", source]

    # So the quiet build's output is its own, not batamanta's compilation.
    {_, 0} = mix(context, "hello_cli", ["compile"])
    {output, status} = mix(context, "hello_cli", ["batamanta", "--quiet" | args])
    assert status == 0, "mix batamanta failed:\n#{output}"

    {escript_output, status} =
      mix(context, "escript", ["batamanta", "--force-libc", "musl" | args])

    assert status == 0, "mix batamanta failed in examples/escript:\n#{escript_output}"

    Map.merge(context, %{build_output: output, escript_output: escript_output, source: source})
  end

  defp mix(context, example, args, xdg \\ "xdg") do
    env = [
      {"MIX_ENV", nil},
      {"XDG_CACHE_HOME", Path.join(context.dir, xdg)},
      {"BATAMANTA_CACHE_DIR", Path.join(context.dir, "extractions")},
      {"BATAMANTA_RETRY_BASE_MS", "20"},
      {"TMPDIR", context.dir}
    ]

    mix = System.find_executable("mix")
    cwd = Path.join(@examples, example)
    System.cmd(mix, args, cd: cwd, env: env, stderr_to_stdout: true)
  end

  defp metadata(binary) do
    native = Native.start()

    try do
      {:ok, %{metadata: metadata}} =
        Native.request(native, :inspect, %{path: binary, list: false})

      Map.new(metadata)
    after
      Native.close(native)
    end
  end

  test "a quiet musl build prints only the output path (and warnings), named for the triple",
       context do
    # The list failed once and was retried; the fixture's libc mismatch is a warning.
    lines = String.split(context.build_output, "\n", trim: true)
    assert List.last(lines) == context.binary
    assert Enum.all?(lines, &(&1 == context.binary or &1 =~ "warning: the runtime staged"))
    refute context.build_output =~ "retrying"
    assert HTTPServer.hits(context.server, "/m/#{@triple}/SHA256SUMS") == 2
  end

  test "the binary carries the target's runtime and says so", context do
    {listing, 0} = mix(context, "hello_cli", ["batamanta.inspect", context.binary])
    erts_version = to_string(:erlang.system_info(:version))
    assert listing =~ "erts-#{erts_version}/bin/#{OTPFixture.marker()}"

    metadata = metadata(context.binary)
    assert metadata["target"] == @triple
    assert metadata["otp_version"] == context.version
    # Read from the swapped-in files: the fixture is this machine's glibc build.
    assert metadata["libc"] =~ "gnu"
  end

  test "the binary runs", context do
    env = [{"BATAMANTA_CACHE_DIR", Path.join(context.dir, "run")}]
    assert {"Hello from batamanta!\n", 0} = System.cmd(context.binary, [], env: env)
  end

  test "a runtime of the wrong libc for the triple is warned about", context do
    # The fixture is a glibc build served as musl.
    assert context.escript_output =~ "warning: the runtime staged for #{@triple} needs gnu"
  end

  test "an escript builds for musl from the target's OTP root and runs", context do
    entry = Path.join([context.dir, "xdg/batamanta/erts", @triple, "OTP-#{context.version}"])
    assert context.escript_output =~ "from #{entry}"
    assert context.escript_output =~ "target       #{@triple}"
    assert metadata(context.escript)["target"] == @triple

    env = [{"BATAMANTA_CACHE_DIR", Path.join(context.dir, "run-escript")}]
    assert {"Hello from a batamanta escript!\n", 0} = System.cmd(context.escript, [], env: env)
  end

  test "an OTP version other than this machine's is refused, listing the mirror's", context do
    args = ["--erts-target", "alpine_3_19_x86_64", "--erts-source", context.source]

    {output, status} = mix(context, "hello_cli", ["batamanta", "--otp-version", "25.0.1" | args])
    assert status != 0
    assert output =~ "must be exactly #{context.version}"
    assert output =~ "run mix batamanta on a host with OTP 25.0.1"

    old = HTTPServer.url(context.server, "/old")

    # An empty cache: the build has to consult the list.
    {output, status} =
      mix(
        context,
        "hello_cli",
        ["batamanta", "--erts-target", "alpine_3_19_x86_64", "--erts-source", old],
        "xdg-empty"
      )

    assert status != 0
    assert output =~ "has no verifiable OTP #{context.version} for #{@triple}"
    assert output =~ "Available: 25.0.1"
  end

  test "macOS and Windows are refused: the dispenser is Linux-only", context do
    for target <- ["macos_12_arm64", "windows_x86_64"] do
      {output, status} = mix(context, "hello_cli", ["batamanta", "--erts-target", target])
      assert status != 0
      assert output =~ "the dispenser that starts every binary is Linux-only"
    end
  end
end
