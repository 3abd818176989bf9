defmodule Batamanta.ReleaseTest do
  # A real `mix release` of test/fixtures/tiny: the pruning, the boot script and the
  # launch spec are checked against what Mix actually produces.
  use ExUnit.Case, async: false

  alias Batamanta.{BootScript, Config, ERTS, LaunchSpec, Release, Staged, Target}

  @fixture Path.expand("../fixtures/tiny", __DIR__)

  setup_all do
    dir = Path.join(System.tmp_dir!(), "batamanta-test-#{System.unique_integer([:positive])}")
    project = Path.join(dir, "tiny")
    File.mkdir_p!(dir)
    File.cp_r!(@fixture, project)
    on_exit(fn -> File.rm_rf!(dir) end)

    mix_project = [
      app: :tiny,
      version: "1.2.3",
      releases: [tiny: [reboot_system_after_config: true]],
      batamanta: [binary_name: "tiny-cli"]
    ]

    {:ok, config} = Config.resolve(mix_project, [], %{}, project)
    {:ok, config} = Release.resolve(config, mix_project)

    env = [{"MIX_ENV", "prod"}, {"MIX_EXS", nil}, {"MIX_BUILD_PATH", nil}, {"MIX_DEPS_PATH", nil}]
    assert {:ok, release} = Release.build(config, "tiny", env, dir)
    %{config: config, release: release}
  end

  test "build/4 finds the staged release", %{release: release} do
    assert release.name == "tiny"
    assert release.version == "1.2.3"
    assert release.erts_version == to_string(:erlang.system_info(:version))
    assert File.regular?(Path.join(release.path, "releases/1.2.3/start.script"))
  end

  test "a failing mix release is an error with its output", %{config: config} do
    env = [{"MIX_ENV", "prod"}]
    dir = Path.join(System.tmp_dir!(), "batamanta-test-#{System.unique_integer([:positive])}")
    on_exit(fn -> File.rm_rf!(dir) end)
    assert {:error, message} = Release.build(config, "no_such_release", env, dir)
    assert message =~ "no_such_release"
    assert message =~ "exit status"
  end

  test "prune/1 removes build-only files and keeps the runtime", %{release: release} do
    # What `steps: [:assemble, :tar]` leaves behind: it must not be packed a second time.
    tarball = Path.join(release.path, "tiny-1.2.3.tar.gz")
    File.write!(tarball, "")
    Release.prune(release)
    refute File.exists?(tarball)
    bin = Path.join(release.path, "erts-#{release.erts_version}/bin")

    for tool <- ~w(erlc dialyzer typer ct_run yielding_c_fun erl_call run_erl to_erl) do
      refute File.exists?(Path.join(bin, tool)), "#{tool} was kept"
    end

    for needed <- ~w(erlexec beam.smp erl_child_setup inet_gethost epmd) do
      assert File.exists?(Path.join(bin, needed)), "#{needed} was removed"
    end

    assert Path.wildcard(Path.join(release.path, "**/*.bat")) == []
    refute File.exists?(Path.join(release.path, "releases/COOKIE"))
    assert Release.prune(release) == 0
  end

  test "Staged.elf_files/2 lists the runtime's ELF files only", %{release: release} do
    files = Enum.map(Staged.elf_files(release, Staged.nif_files(release)), &Path.basename/1)
    assert "beam.smp" in files
    assert "erlexec" in files
    refute "start" in files
  end

  test "the boot script starts the CLI before the app", %{release: release} do
    vsn_dir = Path.join(release.path, "releases/1.2.3")
    assert :ok = BootScript.write(vsn_dir)

    {:script, _, instructions} =
      :erlang.binary_to_term(File.read!(Path.join(vsn_dir, "batamanta.boot")))

    cli = Enum.find_index(instructions, &(&1 == {:apply, {:elixir, :start_cli, []}}))

    app =
      Enum.find_index(
        instructions,
        &match?({:apply, {:application, :start_boot, [:tiny | _]}}, &1)
      )

    logger =
      Enum.find_index(
        instructions,
        &match?({:apply, {:application, :start_boot, [:logger | _]}}, &1)
      )

    assert cli == logger + 1
    assert cli < app
  end

  test "the launch spec", %{config: config, release: release} do
    target = %Target{
      os: :linux,
      arch: :x86_64,
      libc: :gnu,
      triple: "x86_64-linux-gnu",
      suffix: "-x86_64-linux"
    }

    erts = ERTS.host()

    assert {:ok, records} =
             LaunchSpec.build(config, release, target, erts, "gnu 2.34", ["libcrypto.so.3"])

    value = fn key -> for {^key, v} <- records, do: v end
    v = release.erts_version

    assert value.("app") == ["tiny"]
    assert value.("needs") == ["libcrypto.so.3"]
    assert value.("version") == ["1.2.3"]
    assert value.("format") == ["release"]
    assert value.("mode") == ["cli"]
    assert value.("target") == ["x86_64-linux-gnu"]
    assert value.("erts_version") == [v]
    assert value.("otp_version") == [erts.otp_version]
    assert value.("libc") == ["gnu 2.34"]
    assert value.("exec") == ["erts-#{v}/bin/erlexec"]

    assert Enum.take(value.("env"), 9) == [
             "ROOTDIR=${ROOT}",
             "BINDIR=${ROOT}/erts-#{v}/bin",
             "EMU=beam",
             "PROGNAME=tiny-cli",
             "RELEASE_ROOT=${ROOT}",
             "RELEASE_NAME=tiny",
             "RELEASE_VSN=1.2.3",
             "RELEASE_COMMAND=start",
             "RELEASE_PROG=tiny-cli"
           ]

    assert "RELEASE_SYS_CONFIG=${CONFIG}" in value.("env")
    assert "ERL_CRASH_DUMP_SECONDS=0" in value.("env_default")
    assert "RELEASE_BOOT_SCRIPT=batamanta" in value.("env_default")
    assert "RELEASE_DISTRIBUTION=none" in value.("env_default")
    assert value.("tty_arg") == ["-elixir", "ansi_enabled", "true"]

    # The fixture has config/runtime.exs and a custom rel/env.sh.eex.
    assert value.("runtime_config") == ["releases/1.2.3/sys"]
    assert value.("env_script") == ["releases/1.2.3/env.sh"]

    assert value.("arg") ==
             ~w(-noshell -mode interactive -config ${CONFIG} -boot ${ROOT}/releases/1.2.3/batamanta
                -boot_var RELEASE_LIB ${ROOT}/lib -args_file ${ROOT}/releases/1.2.3/vm.args
                -extra --no-halt --)

    for {key, value} <- records do
      assert key =~ ~r/^[a-z_]+$/
      refute String.contains?(value, <<0>>)
    end
  end

  test "the launch spec without runtime config or env.sh", %{config: config, release: release} do
    copy = release.path <> "-plain"
    File.cp_r!(release.path, copy)
    File.write!(Path.join(copy, "releases/1.2.3/sys.config"), "%% RUNTIME_CONFIG=false\n[].\n")
    File.write!(Path.join(copy, "releases/1.2.3/env.sh"), "#!/bin/sh\n\n# export X=1\n")

    target = %Target{triple: "x86_64-linux-gnu"}

    assert {:ok, records} =
             LaunchSpec.build(config, %{release | path: copy}, target, ERTS.host(), "none", [])

    refute List.keymember?(records, "runtime_config", 0)
    refute List.keymember?(records, "env_script", 0)
    assert {"arg", "${ROOT}/releases/1.2.3/sys"} in records
    assert {"env_default", "RELEASE_SYS_CONFIG=${ROOT}/releases/1.2.3/sys"} in records
  end

  test "the :tui launch spec is the :cli one with mode tui", %{config: config, release: release} do
    build =
      &LaunchSpec.build(
        %{config | execution_mode: &1},
        release,
        %Target{},
        ERTS.host(),
        "none",
        []
      )

    assert {:ok, cli} = build.(:cli)
    assert {:ok, tui} = build.(:tui)
    assert List.keyreplace(cli, "mode", 0, {"mode", "tui"}) == tui
  end

  test "modes and formats not built yet are refused clearly", %{config: config} do
    assert {:error, message} =
             LaunchSpec.supported(%{config | format: :escript, execution_mode: :daemon})

    assert message =~ ":daemon"
  end

  test "build/6 refuses a format and mode not built yet", %{config: config, release: release} do
    assert {:error, message} =
             LaunchSpec.build(
               %{config | format: :escript, execution_mode: :daemon},
               release,
               %Target{},
               ERTS.host(),
               "none",
               []
             )

    assert message =~ ":daemon"
  end

  test "a daemon defaults to -sname <release>, named by the dispenser, and signals when its boot finished",
       context do
    assert {:ok, records} =
             LaunchSpec.build(
               %{context.config | execution_mode: :daemon},
               context.release,
               %Target{},
               ERTS.host(),
               "none",
               []
             )

    args = for {"arg", arg} <- records, do: arg
    assert ["-mode", "embedded" | _] = Enum.drop_while(args, &(&1 != "-mode"))
    assert ["-eval", ready, "-extra", "--no-halt", "--"] = Enum.take(args, -5)
    assert ready =~ "BATAMANTA_READY_FILE"
    assert ready =~ "which_applications"
    refute "-setcookie" in args
    refute "-sname" in args
    assert {"env_default", "RELEASE_DISTRIBUTION=sname"} in records
    assert {"env_default", "RELEASE_NODE=tiny"} in records
    assert {"batamanta", Mix.Project.config()[:version]} in records
  end

  test "libc/1 formats the helper's answer" do
    assert LaunchSpec.libc(%{libc: "gnu", version: "2.34"}) == "gnu 2.34"
    assert LaunchSpec.libc(%{libc: "musl", version: nil}) == "musl"
    assert LaunchSpec.libc(%{libc: "none", version: nil}) == "none"
  end
end
