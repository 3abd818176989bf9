defmodule Batamanta.ERTSE2ETest do
  # Builds examples/hello_cli on an OTP provisioned from a local mirror made the way
  # people make one, `tar -C /usr/lib -czf OTP-<version>.tar.gz erlang` (a copy of this
  # machine's OTP with its symlinks, some leaving the tree, and a marker file), in an
  # environment set up to break a careless build (a version-manager shim first on PATH,
  # ERL_AFLAGS that stop any VM from booting), and runs the binary with Erlang hidden.
  use ExUnit.Case, async: false

  alias Batamanta.{ERTS, MixRun, Native}
  alias Batamanta.Test.{HTTPServer, OTPFixture}

  @moduletag :e2e
  @moduletag timeout: 600_000

  @example Path.expand("../examples/hello_cli", __DIR__)
  @triple "x86_64-linux-gnu"
  @breaking_aflags "-boot /nonexistent/batamanta-test-boot"

  setup_all do
    dir = Path.join(System.tmp_dir!(), "batamanta-erts-e2e-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    version = OTPFixture.host_version()
    {tarball, sha} = OTPFixture.installed_tarball(dir)

    server =
      HTTPServer.start(%{
        "/m/#{@triple}/SHA256SUMS" => [{:body, "#{sha}  OTP-#{version}.tar.gz\n"}],
        "/m/#{@triple}/OTP-#{version}.tar.gz" => [{:file, tarball}]
      })

    on_exit(fn ->
      HTTPServer.stop(server)
      File.rm_rf!(dir)
    end)

    shims = Path.join(dir, "home/.asdf/shims")
    calls = Path.join(dir, "shim-calls")
    File.mkdir_p!(shims)

    for tool <- ~w(erl elixir mix) do
      File.write!(Path.join(shims, tool), "#!/bin/sh\necho #{tool} >> '#{calls}'\nexit 99\n")
      File.chmod!(Path.join(shims, tool), 0o755)
    end

    context = %{
      dir: dir,
      version: version,
      server: server,
      shims: shims,
      calls: calls,
      xdg: Path.join(dir, "xdg"),
      binary: Path.join(dir, "hello"),
      build_tmp: Path.join(dir, "build-tmp")
    }

    File.mkdir_p!(context.build_tmp)

    args = [
      "--erts-source",
      HTTPServer.url(server, "/m"),
      "--otp-version",
      version,
      "--output",
      context.binary
    ]

    {output, status} = mix_batamanta(context, args)
    assert status == 0, "mix batamanta failed:\n#{output}"
    Map.put(context, :build_output, output)
  end

  # The outer VM is started with the real erl by path, so the shim and ERL_AFLAGS reach
  # only what the build itself starts; `-env` hands ERL_AFLAGS to the running VM's
  # environment, from which the build subprocess's environment is derived.
  defp mix_batamanta(context, args) do
    erl = Path.join(to_string(:code.root_dir()), "bin/erl")
    elixir_lib = :elixir |> :code.lib_dir() |> to_string() |> Path.dirname()
    ebins = Path.wildcard(Path.join(elixir_lib, "*/ebin"))
    mix = System.find_executable("mix")

    argv =
      ["-pa" | ebins] ++
        ["-noshell", "-s", "elixir", "start_cli", "-env", "ERL_AFLAGS", @breaking_aflags] ++
        ["-extra", mix, "batamanta" | args]

    env = [
      {"MIX_ENV", nil},
      {"PATH", context.shims <> ":" <> System.get_env("PATH")},
      {"ASDF_DATA_DIR", Path.dirname(context.shims)},
      {"ASDF_ERLANG_VERSION", "26.0"},
      {"XDG_CACHE_HOME", context.xdg},
      {"BATAMANTA_CACHE_DIR", Path.join(context.dir, "extractions")},
      {"SOURCE_DATE_EPOCH", "1700000000"},
      {"TMPDIR", context.build_tmp}
    ]

    System.cmd(erl, argv, cd: @example, env: env, stderr_to_stdout: true)
  end

  test "the build used the provisioned OTP, never the shim, and cleaned up", context do
    entry = Path.join([context.xdg, "batamanta/erts", @triple, "OTP-#{context.version}"])
    assert context.build_output =~ "from #{entry}"
    assert context.build_output =~ "symlink(s) pointing outside the OTP tree, left out"
    refute File.exists?(context.calls), "the build ran a version-manager shim"
    assert File.ls!(context.build_tmp) == []
  end

  test "the binary's runtime and metadata come from the cache entry", context do
    native = Native.start()

    try do
      assert {:ok, %{metadata: metadata, entries: entries}} =
               Native.request(native, :inspect, %{path: context.binary, list: true})

      metadata = Map.new(metadata)
      erts_version = to_string(:erlang.system_info(:version))
      assert metadata["erts_version"] == erts_version
      assert metadata["otp_version"] == context.version
      paths = Enum.map(entries, & &1.path)
      assert "erts-#{erts_version}/bin/#{OTPFixture.marker()}" in paths
    after
      Native.close(native)
    end
  end

  test "it runs with Erlang and Elixir hidden", context do
    bwrap = System.find_executable("bwrap") || flunk("bubblewrap (bwrap) is needed for this test")
    cache = Path.join(context.dir, "run-cache")
    File.mkdir_p!(cache)

    args =
      ~w(--ro-bind / / --dev /dev --proc /proc --tmpfs /usr/lib/erlang --tmpfs /usr/lib/elixir) ++
        ["--tmpfs", context.xdg, "--bind", cache, cache] ++
        ["--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8"] ++
        ["--setenv", "BATAMANTA_CACHE_DIR", cache, context.binary]

    assert {"Hello from batamanta!\n", 0} = System.cmd(bwrap, args, stderr_to_stdout: true)
  end

  test "the build subprocess's environment has the variables really unset", context do
    native = Native.start()

    try do
      erts = %ERTS{
        ERTS.host()
        | root: Path.join([context.xdg, "batamanta/erts", @triple, "OTP-#{context.version}"])
      }

      env =
        System.get_env()
        |> Map.merge(%{
          "ERL_AFLAGS" => @breaking_aflags,
          "ERL_FLAGS" => "+bogus",
          "ERL_ZFLAGS" => "-x",
          "ERL_LIBS" => "/nowhere",
          "ASDF_ERLANG_VERSION" => "26.0",
          "MISE_ELIXIR_VERSION" => "1.16",
          "PATH" => context.shims <> ":/usr/bin:/bin"
        })

      assert {:ok, child_env} = MixRun.build_env(native, erts, env)
      {dump, 0} = System.cmd("env", [], env: child_env)
      names = dump |> String.split("\n") |> Enum.map(&hd(String.split(&1, "=", parts: 2)))

      for name <-
            ~w(ERL_AFLAGS ERL_FLAGS ERL_ZFLAGS ERL_LIBS ASDF_ERLANG_VERSION MISE_ELIXIR_VERSION) do
        refute name in names, "#{name} reached the build subprocess"
      end

      [path] = for "PATH=" <> path <- String.split(dump, "\n"), do: path
      entries = String.split(path, ":")
      refute context.shims in entries
      # The provisioned OTP's erl must win over any other erl on PATH.
      assert Enum.find_index(entries, &(&1 == Path.join(erts.root, "bin"))) <
               Enum.find_index(entries, &(&1 == "/usr/bin"))

      assert dump =~ "MIX_ENV=prod\n"
    after
      Native.close(native)
    end
  end
end
