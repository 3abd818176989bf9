defmodule Batamanta.CrossE2ETest do
  # Builds examples/hello_cli and examples/escript for x86_64-linux-musl from a local
  # mirror serving a real musl OTP (scripts/musl-otp: built with musl-gcc, cached per
  # machine), and runs them in a root that holds no glibc. Also: the dispenser's
  # preflight refusals both ways, and the refusals for targets this machine cannot build.
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
    mirror = musl_mirror!()
    tarball = Path.join([mirror, @triple, "OTP-#{version}.tar.gz"])
    sha = OTPFixture.sha256(tarball)

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

    # The escript fetches its runtime through a file:// mirror, into a cache of its own.
    mirror = Path.join(dir, "file-mirror/#{@triple}")
    File.mkdir_p!(mirror)
    File.cp!(tarball, Path.join(mirror, "OTP-#{version}.tar.gz"))
    File.write!(Path.join(mirror, "SHA256SUMS"), "#{sha}  OTP-#{version}.tar.gz\n")

    file_args = [
      "--erts-target",
      "alpine_3_19_x86_64",
      "--erts-source",
      "file://#{Path.dirname(mirror)}"
    ]

    {escript_output, status} =
      mix(context, "escript", ["batamanta", "--force-libc", "musl" | file_args], "xdg-file")

    assert status == 0, "mix batamanta failed in examples/escript:\n#{escript_output}"

    Map.merge(context, %{build_output: output, escript_output: escript_output, source: source})
  end

  defp musl_mirror! do
    script = Path.expand("../scripts/musl-otp", __DIR__)

    case System.cmd(script, ["--check"], stderr_to_stdout: true) do
      {path, 0} -> String.trim(path)
      {why, _} -> flunk("the musl OTP runtime this test runs is missing: #{String.trim(why)}")
    end
  end

  # A root with no glibc at all: the binary, musl's loader, /etc/hosts and /tmp.
  # /etc/hosts is what a real system has, and without it every start takes 5 s more:
  # kernel's inet_config, when no resolver domain is configured, looks up the machine's
  # own hostname (through inet_gethost) to learn its domain; with neither /etc/hosts
  # nor /etc/resolv.conf musl asks a DNS server on 127.0.0.1:53 and waits out its 5 s
  # timeout (strace: two UDP queries for the hostname, 2.5 s apart).
  defp run_in_musl_root(binary, args \\ []) do
    bwrap = System.find_executable("bwrap") || flunk("bubblewrap (bwrap) is needed for this test")

    root =
      ~w(--unshare-all --proc /proc --dev /dev --tmpfs /tmp) ++
        ~w(--ro-bind /lib/ld-musl-x86_64.so.1 /lib/ld-musl-x86_64.so.1) ++
        ~w(--ro-bind /etc/hosts /etc/hosts) ++
        ["--ro-bind", binary, "/hello", "--setenv", "BATAMANTA_CACHE_DIR", "/tmp/cache"]

    System.cmd(bwrap, root ++ ["/hello" | args], stderr_to_stdout: true)
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
    # The list failed once and was retried, silently.
    assert String.split(context.build_output, "\n", trim: true) == [context.binary]
    refute context.build_output =~ "retrying"
    assert HTTPServer.hits(context.server, "/m/#{@triple}/SHA256SUMS") == 2
  end

  test "the binary carries the target's runtime and says so", context do
    metadata = metadata(context.binary)
    assert metadata["target"] == @triple
    assert metadata["otp_version"] == context.version
    # Read from the swapped-in files.
    assert metadata["libc"] == "musl"
  end

  test "the binary runs in a root without glibc", context do
    assert {"Hello from batamanta!\n", 0} = run_in_musl_root(context.binary)
  end

  test "the musl binary refuses to start on this glibc host, naming both", context do
    env = [{"BATAMANTA_CACHE_DIR", Path.join(context.dir, "run")}]
    {output, status} = System.cmd(context.binary, [], env: env, stderr_to_stdout: true)
    assert status == 69
    assert output =~ "this binary needs musl, this system has glibc"
  end

  test "a glibc binary refuses to start in the musl root", context do
    glibc = Path.join(context.dir, "hello-gnu")
    {output, 0} = mix(context, "hello_cli", ["batamanta", "--quiet", "--output", glibc])
    assert output =~ glibc
    {output, status} = run_in_musl_root(glibc)
    assert status == 69
    assert output =~ "this binary needs glibc >= 2."
    assert output =~ "this system has musl"
  end

  test "an escript builds for musl from the target's OTP root and runs", context do
    entry = Path.join([context.dir, "xdg-file/batamanta/erts", @triple, "OTP-#{context.version}"])
    assert context.escript_output =~ "from #{entry}"
    assert context.escript_output =~ "target       #{@triple}"
    assert metadata(context.escript)["target"] == @triple

    refute context.escript_output =~ "warning: the runtime staged"
    assert {"Hello from a batamanta escript!\n", 0} = run_in_musl_root(context.escript)
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
      assert output =~ "docs/PORTING.md"
    end
  end
end
