defmodule Batamanta.ERTSTest do
  # Provisioning against a local HTTP server serving OTP trees made from this machine's
  # OTP, in batamanta's mirror layout and in Hex's.
  use ExUnit.Case, async: false

  alias Batamanta.{Config, ERTS, Native, Target}
  alias Batamanta.ERTS.{Cache, Index, Source}
  alias Batamanta.Test.{HTTPServer, OTPFixture, Wait}

  @moduletag timeout: 180_000
  @triple "x86_64-linux-gnu"

  setup_all do
    dir = Path.join(System.tmp_dir!(), "batamanta-erts-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    version = OTPFixture.host_version()
    {tarball, sha} = OTPFixture.tarball(Path.join(dir, "host"))

    {other, other_sha} =
      OTPFixture.tarball(Path.join(dir, "other"), version: "26.2.5", top_folder: false)

    # The helper reads these when it starts: short backoff and stall detection.
    System.put_env("BATAMANTA_RETRY_BASE_MS", "20")
    System.put_env("BATAMANTA_HTTP_LOW_SPEED_TIME", "1")
    server = HTTPServer.start()

    on_exit(fn ->
      HTTPServer.stop(server)
      System.delete_env("BATAMANTA_RETRY_BASE_MS")
      System.delete_env("BATAMANTA_HTTP_LOW_SPEED_TIME")
      File.rm_rf!(dir)
    end)

    %{
      dir: dir,
      server: server,
      version: version,
      tarball: tarball,
      sha: sha,
      other: other,
      other_sha: other_sha
    }
  end

  setup context do
    prefix = "/t#{System.unique_integer([:positive])}"
    cache = Path.join(context.dir, "cache#{prefix}")
    native = Native.start()
    on_exit(fn -> Native.close(native) end)
    %{prefix: prefix, cache: cache, native: native}
  end

  defp mirror(context, versions, tarball_responses \\ nil, triple \\ @triple) do
    sums = Enum.map_join(versions, fn {version, sha} -> "#{sha}  OTP-#{version}.tar.gz\n" end)

    HTTPServer.put(context.server, index_path(context, triple), {:body, sums})

    if tarball_responses do
      HTTPServer.put(
        context.server,
        tarball_path(context, context.version, triple),
        tarball_responses
      )
    end

    HTTPServer.url(context.server, context.prefix)
  end

  defp index_path(context, triple \\ @triple), do: "#{context.prefix}/#{triple}/SHA256SUMS"

  defp tarball_path(context, version, triple \\ @triple),
    do: "#{context.prefix}/#{triple}/OTP-#{version}.tar.gz"

  # Progress and notices come back to the calling process as messages.
  defp provision(context, opts) do
    config = struct(Config, Keyword.merge([otp_version: :auto], opts))
    target = %Target{os: :linux, arch: :x86_64, libc: :gnu, triple: @triple, host?: true}
    env = %{"XDG_CACHE_HOME" => context.cache, "HOME" => context.dir}
    env = Map.merge(env, Keyword.get(opts, :env, %{}))
    caller = self()
    progress = fn label -> &send(caller, {:progress, label, &1}) end

    ERTS.provision(config, Keyword.get(opts, :target, target), context.native,
      env: env,
      progress: progress
    )
  end

  defp entry(context, version, triple \\ @triple),
    do: Path.join([context.cache, "batamanta/erts", triple, "OTP-#{version}"])

  defp root_dir_seen_by_erl(root) do
    eval = ~s|io:format("~s", [code:root_dir()]), halt().|
    {out, 0} = System.cmd(Path.join(root, "bin/erl"), ["-noshell", "-eval", eval])
    out
  end

  # A helper's atomic write leaves a temp file next to its output until it commits.
  defp leftovers(context) do
    erts = Path.join(context.cache, "batamanta/erts")

    Path.wildcard(Path.join([erts, "*", ".tmp-*"]), match_dot: true) ++
      Path.wildcard(Path.join([erts, "indexes", ".*"]), match_dot: true)
  end

  @musl %Target{
    os: :linux,
    arch: :x86_64,
    libc: :musl,
    triple: "x86_64-linux-musl",
    suffix: "-x86_64-linux-musl",
    host?: false
  }

  test "a 200 installs into the cache, installed for its final path; then it is a hit", context do
    base = mirror(context, [{context.version, context.sha}], {:file, context.tarball})

    {cold, {:ok, erts}} = :timer.tc(fn -> provision(context, erts_source: base) end)
    root = entry(context, context.version)
    assert %ERTS{source: :download, root: ^root, erts_version: erts_version} = erts
    assert erts.otp_version == context.version
    assert erts_version == to_string(:erlang.system_info(:version))
    assert File.read!(Path.join(root, "bin/erl")) =~ "ROOTDIR=#{root}\n"
    assert File.exists?(Path.join(root, "erts-#{erts_version}/bin/#{OTPFixture.marker()}"))

    assert root_dir_seen_by_erl(root) == root
    assert leftovers(context) == []

    {warm, {:ok, again}} = :timer.tc(fn -> provision(context, erts_source: base) end)
    assert again.source == :cache and again.root == root
    assert HTTPServer.hits(context.server, tarball_path(context, context.version)) == 1
    # The host's exact version was in the cache: the source was not even asked.
    assert HTTPServer.hits(context.server, index_path(context)) == 1

    IO.puts(
      "\n    fixture download+install #{div(cold, 1000)} ms, cache hit #{div(warm, 1000)} ms"
    )
  end

  test "a plain tar -czf of an installed OTP installs, relocated, with its in-tree links",
       context do
    {tarball, sha} =
      OTPFixture.installed_tarball(Path.join(context.dir, "plain#{context.prefix}"))

    base = mirror(context, [{context.version, sha}], {:file, tarball})

    assert {:ok, erts} = provision(context, erts_source: base)
    root = entry(context, context.version)
    assert erts.source == :download and erts.root == root
    assert File.read_link!(Path.join(root, "bin/epmd")) == "../erts-#{erts.erts_version}/bin/epmd"
    assert File.exists?(Path.join(root, "erts-#{erts.erts_version}/bin/#{OTPFixture.marker()}"))

    # Debian's erl names /usr/lib/erlang whatever its location: rewritten to the entry's.
    assert root_dir_seen_by_erl(root) == root

    # erlang-common-test's priv/ links into /usr/share: left out, in one warning naming each.
    escaping = OTPFixture.escaping_links()
    assert escaping != [], "scripts/install-deps installs erlang-common-test for this case"
    assert [warning] = String.split(erts.warning, "\n")
    assert warning =~ "#{length(escaping)} symlink(s) pointing outside the OTP tree"

    for link <- escaping do
      assert warning =~ "erlang/#{link} -> "

      refute File.exists?(Path.join(root, link)) or
               match?({:ok, _}, File.read_link(Path.join(root, link)))
    end

    assert {:ok, %ERTS{source: :cache, warning: nil}} = provision(context, erts_source: base)
  end

  test "an archive entry outside the tree is refused, naming it and the URL", context do
    evil = Path.join(context.dir, "evil-#{Path.basename(context.prefix)}.tar.gz")

    {_, 0} =
      System.cmd("python3", [
        "-c",
        """
        import io, tarfile, sys
        with tarfile.open(sys.argv[1], "w:gz") as tar:
            for name in ["erlang/", "erlang/../escaped"]:
                info = tarfile.TarInfo(name)
                info.type = tarfile.DIRTYPE if name.endswith("/") else tarfile.REGTYPE
                tar.addfile(info, io.BytesIO(b""))
        """,
        evil
      ])

    base = mirror(context, [{context.version, OTPFixture.sha256(evil)}], {:file, evil})
    assert {:error, message} = provision(context, erts_source: base)
    assert message =~ "#{base}/#{@triple}/OTP-#{context.version}.tar.gz cannot be installed"
    assert message =~ "'..' in entry path (erlang/../escaped)"
    refute message =~ "POSIX"
    assert leftovers(context) == []
  end

  test "Hex's layout: builds.txt, skipping non-versions and unverifiable lines", context do
    hex = "#{context.prefix}/hex/amd64/ubuntu-22.04"

    builds = """
    maint 0123456789abcdef0123456789abcdef01234567 2024-05-02T09:43:33Z #{String.duplicate("a", 64)}
    OTP-25.0 0123456789abcdef0123456789abcdef01234567 2022-05-18T09:43:33Z
    OTP-#{context.version} 0123456789abcdef0123456789abcdef01234567 2023-02-01T09:43:33Z #{context.sha}
    """

    HTTPServer.put(context.server, "#{hex}/builds.txt", {:body, builds})

    HTTPServer.put(
      context.server,
      "#{hex}/OTP-#{context.version}.tar.gz",
      {:file, context.tarball}
    )

    env = %{"BATAMANTA_HEX_OTP_URL" => HTTPServer.url(context.server, "#{context.prefix}/hex")}

    assert {:ok, %ERTS{source: :download, otp_version: version}} = provision(context, env: env)
    assert version == context.version

    assert {:error, message} = provision(context, env: env, otp_version: "25.0")
    assert message =~ "without a sha256 checksum"
  end

  test "500, 500, then 200 is retried", context do
    responses = [{:status, 500}, {:status, 500}, {:file, context.tarball}]
    base = mirror(context, [{context.version, context.sha}], responses)
    assert {:ok, %ERTS{source: :download}} = provision(context, erts_source: base)
    assert HTTPServer.hits(context.server, tarball_path(context, context.version)) == 3

    # Each retry is a notice over the port, not a line on the helper's stderr.
    label = "OTP-#{context.version}.tar.gz"
    url = HTTPServer.url(context.server, tarball_path(context, context.version))

    for attempt <- [1, 2] do
      assert_received {:progress, ^label, %{stage: "retry", done: ^attempt, total: 5} = retry}
      assert retry.message == "#{url} answered HTTP 500"
    end
  end

  test "an unresolvable host is not retried", context do
    {micros, result} =
      :timer.tc(fn -> provision(context, erts_source: "http://batamanta-test.invalid/m") end)

    assert {:ok, %ERTS{source: :host, warning: warning}} = result
    assert warning =~ "Could not resolve host: batamanta-test.invalid"
    refute warning =~ "gave up after"
    refute_received {:progress, _, %{stage: "retry"}}
    assert micros < 2_000_000
  end

  describe "the version list" do
    setup context do
      {:ok, source} = Source.resolve(mirror(context, [{context.version, context.sha}]), @triple)
      root = Cache.root(%{"XDG_CACHE_HOME" => context.cache})

      %{
        source: source,
        root: root,
        fetch: fn -> Index.fetch(source, context.native, root, & &1) end
      }
    end

    test "is kept for an hour under the ERTS cache, then fetched again", context do
      expected = %{context.version => context.sha}
      assert context.fetch.() == {:ok, expected}
      assert context.fetch.() == {:ok, expected}
      assert HTTPServer.hits(context.server, index_path(context)) == 1

      assert Path.dirname(Index.path(context.root, context.source)) ==
               Path.join(context.root, "indexes")

      File.touch!(Index.path(context.root, context.source), System.os_time(:second) - 3600)
      assert context.fetch.() == {:ok, expected}
      assert HTTPServer.hits(context.server, index_path(context)) == 2
      assert leftovers(context) == []
    end

    test "a failed fetch or a list without versions is not kept", context do
      HTTPServer.put(context.server, index_path(context), [{:status, 404}])
      assert {:unavailable, message} = context.fetch.()
      assert message =~ "HTTP 404"
      refute File.exists?(Index.path(context.root, context.source))

      HTTPServer.put(context.server, index_path(context), [{:body, "<html>log in</html>"}])
      assert context.fetch.() == {:ok, %{}}
      refute File.exists?(Index.path(context.root, context.source))
    end
  end

  test "an endless list stops at its limit within seconds, keeps nothing, and memory stays flat",
       context do
    HTTPServer.put(context.server, index_path(context), {:endless, :binary.copy("x", 65_536)})
    url = HTTPServer.url(context.server, index_path(context))
    root = Cache.root(%{"XDG_CACHE_HOME" => context.cache})
    source = %Source{layout: :mirror, base: "b", index_url: url}
    before = :erlang.memory(:total)

    {micros, result} = :timer.tc(fn -> Index.fetch(source, context.native, root, & &1) end)

    assert {:unavailable, message} = result
    assert message =~ url
    assert message =~ "larger than the limit of #{4 * 1024 * 1024} bytes"
    assert micros < 10_000_000
    assert File.ls!(Path.join(root, "indexes")) == []
    assert :erlang.memory(:total) - before < 64 * 1024 * 1024
  end

  describe "another target" do
    test "gets exactly the host's version from the mirror, into its own cache dir", context do
      base =
        mirror(context, [{context.version, context.sha}], {:file, context.tarball}, @musl.triple)

      assert {:ok, erts} = provision(context, erts_source: base, target: @musl)
      assert erts.root == entry(context, context.version, @musl.triple)
      assert erts.otp_version == context.version
      assert ERTS.builder(erts, @musl) == ERTS.host()
      assert {:ok, %ERTS{source: :cache}} = provision(context, erts_source: base, target: @musl)
    end

    test "another OTP version is refused before any fetch", context do
      base = mirror(context, [{"25.0.1", context.sha}], nil, @musl.triple)

      assert {:error, message} =
               provision(context, erts_source: base, target: @musl, otp_version: "25.0.1")

      assert message =~ "must be exactly #{context.version}"
      assert HTTPServer.hits(context.server, index_path(context, @musl.triple)) == 0
    end

    test "a mirror without the host's exact version is refused, listing its versions",
         context do
      base = mirror(context, [{"25.0.1", context.sha}], nil, @musl.triple)
      assert {:error, message} = provision(context, erts_source: base, target: @musl)
      assert message =~ "has no verifiable OTP #{context.version} for x86_64-linux-musl"
      assert message =~ "Available: 25.0.1"
      assert message =~ "on a host whose OTP is one of the listed versions"
    end

    test "an unreachable source is an error, not the host's runtime", context do
      assert {:error, message} =
               provision(context, erts_source: "http://127.0.0.1:1/x", target: @musl)

      assert message =~ "target x86_64-linux-musl is not this machine"
    end
  end

  test "404 names the URL and the versions available", context do
    base = mirror(context, [{context.version, context.sha}, {"25.1", context.sha}])
    assert {:error, message} = provision(context, erts_source: base)
    assert message =~ HTTPServer.url(context.server, tarball_path(context, context.version))
    assert message =~ "HTTP 404"
    assert HTTPServer.hits(context.server, tarball_path(context, context.version)) == 1

    assert {:error, message} = provision(context, erts_source: base, otp_version: "25.9.9")
    assert message =~ "OTP 25.9.9"
    assert message =~ "Available: #{context.version}, 25.1"
    assert leftovers(context) == []
  end

  test "a truncated body is an error and leaves nothing behind", context do
    base = mirror(context, [{context.version, context.sha}], {:truncated, context.tarball})
    assert {:error, message} = provision(context, erts_source: base)
    assert message =~ tarball_path(context, context.version)
    refute File.exists?(entry(context, context.version))
    assert leftovers(context) == []
  end

  test "a checksum mismatch names both hashes and deletes the download", context do
    wrong = String.duplicate("0", 64)
    base = mirror(context, [{context.version, wrong}], {:file, context.tarball})
    assert {:error, message} = provision(context, erts_source: base)
    assert message =~ "expected sha256 #{wrong}"
    assert message =~ context.sha
    refute File.exists?(entry(context, context.version))
    assert leftovers(context) == []
  end

  test "a stalled transfer times out and is retried", context do
    responses = [{:stall, context.tarball}, {:file, context.tarball}]
    base = mirror(context, [{context.version, context.sha}], responses)
    assert {:ok, %ERTS{source: :download}} = provision(context, erts_source: base)
    assert HTTPServer.hits(context.server, tarball_path(context, context.version)) == 2
  end

  test "4 concurrent provisionings on a cold cache download once", context do
    base = mirror(context, [{context.version, context.sha}], {:file, context.tarball})

    results =
      1..4
      |> Enum.map(fn _ ->
        Task.async(fn ->
          native = Native.start()

          try do
            provision(%{context | native: native}, erts_source: base)
          after
            Native.close(native)
          end
        end)
      end)
      |> Task.await_many(120_000)

    assert [{:ok, first} | _] = results
    assert Enum.all?(results, &match?({:ok, %ERTS{root: root}} when root == first.root, &1))
    assert HTTPServer.hits(context.server, tarball_path(context, context.version)) == 1
    assert Enum.count(results, &match?({:ok, %ERTS{source: :download}}, &1)) == 1
  end

  test "a provisioning killed with SIGKILL mid-download neither blocks nor corrupts the next",
       context do
    slow = {:throttle, context.tarball, 64 * 1024, 50}
    base = mirror(context, [{context.version, context.sha}], slow)
    code = killed_build_script(context, base)
    mix = System.find_executable("mix")

    port =
      Port.open({:spawn_executable, mix}, [
        :binary,
        :exit_status,
        args: ["run", "--no-compile", "--no-start", "-e", code],
        cd: File.cwd!(),
        env: [{~c"MIX_ENV", ~c"test"}]
      ])

    {:os_pid, pid} = Port.info(port, :os_pid)

    partial =
      Path.join([context.cache, "batamanta/erts", @triple, ".tmp-OTP-#{context.version}-*"])

    assert Wait.until(
             fn -> Path.wildcard(Path.join(partial, "*.tar.gz*"), match_dot: true) != [] end,
             600,
             50
           )

    System.cmd("kill", ["-KILL", to_string(pid)])
    assert_receive {^port, {:exit_status, _}}, 10_000

    HTTPServer.put(
      context.server,
      tarball_path(context, context.version),
      {:file, context.tarball}
    )

    {micros, result} = :timer.tc(fn -> provision(context, erts_source: base) end)
    assert {:ok, %ERTS{source: :download}} = result
    assert micros < 30_000_000
    assert leftovers(context) == []
  end

  defp killed_build_script(context, base) do
    """
    config = %Batamanta.Config{erts_source: #{inspect(base)}, otp_version: :auto}
    target = %Batamanta.Target{os: :linux, arch: :x86_64, libc: :gnu, triple: #{inspect(@triple)}, host?: true}
    env = %{"XDG_CACHE_HOME" => #{inspect(context.cache)}, "HOME" => #{inspect(context.dir)}}
    Batamanta.ERTS.provision(config, target, Batamanta.Native.start(), env: env)
    """
  end

  describe "version parity" do
    test "an explicit version of another major is refused before any download", context do
      base = mirror(context, [{"26.2.5", context.other_sha}])
      assert {:error, message} = provision(context, erts_source: base, otp_version: "26.2.5")
      assert message =~ "OTP 26.2.5"
      assert message =~ "choose an OTP 25 version"
      assert HTTPServer.hits(context.server, tarball_path(context, "26.2.5")) == 0
    end

    test ":auto with only another major available is an error listing it", context do
      base = mirror(context, [{"26.2.5", context.other_sha}])
      assert {:error, message} = provision(context, erts_source: base)
      assert message =~ "no verifiable OTP 25 build"
      assert message =~ "Available: 26.2.5"
    end

    test "a tarball of another major listed under this one is refused", context do
      base = mirror(context, [{context.version, context.other_sha}], {:file, context.other})
      assert {:error, message} = provision(context, erts_source: base)
      assert message =~ "contains OTP 26.2.5"
      refute File.exists?(entry(context, context.version))
      assert leftovers(context) == []
    end
  end

  describe "without a reachable source" do
    test "the host's own runtime is used for the host, with a plain warning", context do
      assert {:ok, %ERTS{source: :host} = erts} =
               provision(context, erts_source: "http://127.0.0.1:1/nowhere")

      assert erts.warning =~ "using this machine's own OTP #{context.version}"
      assert erts.warning =~ "127.0.0.1 is unreachable (Couldn't connect to server)"
      assert String.length(erts.warning) < 160
    end

    test "another exact version is an error", context do
      assert {:error, message} =
               provision(context, erts_source: "http://127.0.0.1:1/x", otp_version: "25.0.1")

      assert message =~ "OTP 25.0.1"
    end

    test "a target other than the host with no source is an error", context do
      assert {:error, message} = provision(context, target: @musl)
      assert message =~ "no built-in ERTS source for x86_64-linux-musl"
      assert message =~ "erts_source"
    end
  end

  test "the cache takes an empty HOME or XDG_CACHE_HOME as unset, as the dispenser does" do
    home = Path.join(System.user_home!(), ".cache")
    assert Cache.cache_home(%{"HOME" => ""}) == home
    assert Path.type(Cache.cache_home(%{"HOME" => ""})) == :absolute
    assert Cache.cache_home(%{"XDG_CACHE_HOME" => "", "HOME" => "/h"}) == "/h/.cache"
    assert Cache.cache_home(%{"XDG_CACHE_HOME" => "/x", "HOME" => ""}) == "/x"
  end

  test "a relative XDG_CACHE_HOME is ignored, as the XDG spec says" do
    assert Cache.cache_home(%{"XDG_CACHE_HOME" => "rel/cache", "HOME" => "/h"}) == "/h/.cache"
    assert Cache.cache_home(%{"XDG_CACHE_HOME" => "./c", "HOME" => "/h"}) == "/h/.cache"
  end

  describe "Source" do
    test "parses sha256sum lines, skipping anything else" do
      {:ok, source} = Source.resolve("http://m/x/", @triple)
      assert source.index_url == "http://m/x/#{@triple}/SHA256SUMS"
      hash = String.duplicate("Ab", 32)

      index =
        Source.parse_index(source, """
        #{hash}  OTP-26.2.5.tar.gz
        #{hash} *OTP-25.3.tar.gz
        #{hash}  README
        garbage
        """)

      assert index == %{"26.2.5" => String.downcase(hash), "25.3" => String.downcase(hash)}
      assert Source.tarball_url(source, "25.3") == "http://m/x/#{@triple}/OTP-25.3.tar.gz"
    end

    test "defaults to Hex for glibc Linux only" do
      assert {:ok, %Source{layout: :hex, index_url: url}} =
               Source.resolve(nil, "aarch64-linux-gnu")

      assert url == "https://builds.hex.pm/builds/otp/arm64/ubuntu-22.04/builds.txt"
      assert Source.resolve(nil, "x86_64-linux-musl") == :none
      assert Source.resolve(nil, "aarch64-macos") == :none
    end

    test ":auto prefers the host's exact version, else the newest patch of its major" do
      {:ok, source} = Source.resolve("http://m", @triple)
      h = String.duplicate("a", 64)
      index = %{"25.2.3" => h, "25.10.1" => h, "25.3.2" => h, "26.0" => h, "25.11" => nil}
      assert {:ok, "25.2.3", ^h} = Source.select(source, index, :auto, "25.2.3")
      assert {:ok, "25.10.1", ^h} = Source.select(source, index, :auto, "25.2.4")
    end
  end
end
