defmodule Mix.Tasks.Batamanta do
  @shortdoc "Builds the project into one self-contained executable"

  @moduledoc """
  Builds the current project into one self-contained executable that runs where no
  Erlang or Elixir is installed.

      $ mix batamanta
      $ ./hello-0.1.0-x86_64-linux --help

  The project is built as a release (`MIX_ENV=prod mix release`) in a subprocess; its
  runtime, the boot files and a launch description are packed into a zstd-compressed
  payload and appended to a small launcher, the *dispenser*. On first run the
  dispenser extracts the payload into a per-user cache (`$BATAMANTA_CACHE_DIR`, default
  `$XDG_CACHE_HOME/batamanta`) and execs the VM, so signals, the TTY, stdin/stdout and
  the exit status pass straight through.

  The output lands in the project root as `<binary_name>-<version>-<arch>-<os>`, for
  example `hello-0.1.0-x86_64-linux` (`-x86_64-linux-musl` for musl, `.exe` for
  Windows).

  ## Configuration

  Options go under `batamanta:` in the `project/0` of `mix.exs`. Each has a flag that
  overrides it on the command line:

      def project do
        [
          app: :hello,
          version: "0.1.0",
          deps: [{:batamanta, path: "../batamanta", runtime: false}],
          batamanta: [execution_mode: :cli, compression: 3, binary_name: "hello"]
        ]
      end

    * `execution_mode` (`--mode`, `-m`) - `:cli` (default), `:tui` or `:daemon`.
      In `:cli` mode the app starts as with `bin/app start` and ends the program with
      `System.halt/1`.

    * `format` (`--format`) - `:release` or `:escript`. Default: `:escript` when the
      project has an `escript:` config, `:release` otherwise. An escript binary holds
      the escript (built with `mix escript.build` into a temporary path) and a minimal
      runtime: the emulator, kernel, stdlib and the OTP applications of the project's
      application tree (`extra_applications`, deps), with their NIFs. The compiler's
      modules are left out unless the tree lists `:compiler` (add it to
      `extra_applications` if the escript compiles code at run time). NIFs that load
      system libraries are reported: `:crypto` needs `libcrypto.so.3` on the target.

    * `compression` (`--compression`, `-c`) - zstd level from `1` to `19`. Default: `9`.
      `3` builds fastest, `19` gives the smallest binary.

    * `binary_name` (`--binary-name`) - the name of the output file, without `/`.
      Default: the app name.

    * `output` (`--output`, `-o`) - the output path. Default:
      `<project root>/<binary_name>-<version>-<arch>-<os>`.

    * `otp_version` (`--otp-version`) - `:auto` (default) or an OTP version string such
      as `"25.2.3"`.

    * `erts_target` (`--erts-target`) - `:auto` (default, this machine),
      `:ubuntu_22_04_x86_64`, `:ubuntu_22_04_arm64`, `:alpine_3_19_x86_64`,
      `:alpine_3_19_arm64`, `:macos_12_x86_64`, `:macos_12_arm64` or `:windows_x86_64`.

    * `force_os` (`--force-os`), `force_arch` (`--force-arch`), `force_libc`
      (`--force-libc`) - override one part of the target: `:linux`, `:macos` or
      `:windows`; `:x86_64` or `:aarch64`; `:gnu` or `:musl` (Linux only).

    * `erts_source` (`--erts-source`) - base URL of an ERTS mirror laid out as
      `<base>/<triple>/SHA256SUMS` and `<base>/<triple>/OTP-<version>.tar.gz`. Default:
      `$BATAMANTA_ERTS_SOURCE`, else Hex's public OTP builds for glibc Linux. Runtimes are
      cached in `$XDG_CACHE_HOME/batamanta/erts`; `mix batamanta.clean` removes them.

    * `escript_module` (`--escript-module`) - the escript's main module. Default: the
      `main_module` of the project's `escript:` config.

    * `release` (`--release`) - which release to build when the project defines several.
      Default: the only one, `default_release`, or the app's implicit release.

    * `show_banner` (`--no-banner`) - show the banner before the build: an image with
      the kitty graphics or iTerm2 inline-image protocol when the terminal advertises
      one, sixel through `img2sixel` on sixel terminals, text otherwise; never without
      a terminal or in CI. Default: `true`.

    * `--quiet`, `-q` - print only errors and the output path. Default: off.

  Flags take the value's name without the colon: `--mode tui`, `--erts-target
  alpine_3_19_x86_64`. An invalid value stops the build with a message that names the
  option and lists the valid ones.

  This version builds `format: :release` and `format: :escript` with
  `execution_mode: :cli` or `:tui` (a terminal UI: the binary keeps the terminal in raw
  mode while the app runs and restores it, see the README), and `format: :release` with
  `execution_mode: :daemon` (the binary starts, stops and queries the app as a background
  service: `start`, `stop`, `status`, `pid`, `logs`, `remote`, `rpc`, `eval`; see the
  README). Other combinations stop the build with a message saying so.

  ## Building for another target

  The dispenser is Linux-only, so macOS and Windows targets are refused. A Linux target
  other than this machine is built by making the release (or escript) on this machine's
  OTP and swapping in the target's runtime: its `erts-<vsn>/bin` and the `priv/` of each
  OTP application (BEAM files are portable). That needs:

    * the target's OTP, of exactly this machine's OTP version, from `erts_source` (Hex
      has glibc builds only, so a musl target needs a mirror);
    * no native code in the project's own dependencies;
    * a dispenser for the target's arch: the one `mix compile` builds is fully static
      and serves glibc and musl targets of this machine's arch; for another arch, drop
      one built there into `priv/bin/batamanta-dispenser-<triple>` (`-tui-<triple>`,
      `-daemon-<triple>` for those modes).

  The binary's `libc` requirement is read from the swapped-in files. A target whose libc
  differs from this machine's without `force_libc`/`erts_target` naming it gets a
  warning.

  ## Output

  Each step prints one line with what it did and how long it took; compression and
  downloads show a progress line on a terminal. Without a terminal, or when `CI`,
  `TERM=dumb` or `NO_COLOR` is set, the output is plain lines without escape codes. The
  summary gives the output path, size, compression ratio, target, ERTS/OTP version,
  format, mode, compression level and sha256. `mix batamanta.inspect BIN` shows what a
  built binary carries.

  ## Examples

      $ mix batamanta                          # the host's target, settings from mix.exs
      $ mix batamanta --no-banner -c 3         # fastest build, no banner
      $ mix batamanta --compression 19         # smallest binary, slower build
      $ mix batamanta -o dist/hello --quiet    # CI: prints only the output path
      $ SOURCE_DATE_EPOCH=1700000000 mix batamanta

  ## How a CLI app reads its arguments and finishes

  `System.argv/0` holds the binary's arguments, verbatim (none is read by `erl`),
  already inside the application's `start/2`. The app ends the program with
  `System.halt(status)`; a crash while starting exits non-zero with the error on
  stderr.

  ## Environment

    * `SOURCE_DATE_EPOCH` - the mtime of every payload entry (default `0`); with modes
      reduced to 0755/0644 and entries sorted, the same project gives the same bytes in
      any directory, at any time, under any umask;
    * `CI`, `TERM`, `NO_COLOR` - plain output, no banner in CI (see Output);
    * `BATAMANTA_ERTS_SOURCE` - default for `erts_source`;
    * `BATAMANTA_NATIVE` - use this helper executable instead of the compiled one.
  """

  use Mix.Task

  alias Batamanta.{
    AppTree,
    Banner,
    BootScript,
    Config,
    Dispenser,
    ERTS,
    Escript,
    LaunchSpec,
    MinimalERTS,
    Native,
    Output,
    Release,
    RuntimeSwap,
    SizeEstimate,
    Target
  }

  @impl true
  def run(argv) do
    project = Mix.Project.config()
    {micros, config} = :timer.tc(fn -> resolve_config(project, argv) end)
    out = Output.new(config)
    Banner.show(config, out)
    Output.report(out, "resolved config for #{config.app} #{config.version}", micros)

    tmp = Path.join(System.tmp_dir!(), "batamanta-#{System.unique_integer([:positive])}")
    native = Native.start()

    try do
      File.mkdir_p!(tmp)
      {host, target} = Output.step(out, fn -> resolve_target(config, native) end)
      dispenser = Output.step(out, fn -> pick_dispenser(config, target, host) end)
      erts = Output.step(out, fn -> provision_erts(config, target, native, out) end)
      release = stage(config, project, native, erts, target, tmp, out)
      libc = Output.step(out, fn -> libc_requirement(native, release, target) end)
      metadata = Output.step(out, fn -> launch_spec(config, release, target, erts, libc) end)
      Output.step(out, fn -> estimate_size(config, release, dispenser) end)
      payload = Output.step(out, fn -> pack(config, native, release, tmp, out) end)
      output = output_path(config, release, target)
      binary = Output.step(out, fn -> assemble(native, dispenser, payload, metadata, output) end)

      Output.summary(out, %{
        output: output,
        binary: binary,
        payload: payload,
        target: target,
        erts: erts,
        release: release,
        libc: libc,
        config: config
      })
    after
      Native.close(native)
      File.rm_rf(tmp)
    end
  end

  defp resolve_config(project, argv) do
    root = Path.dirname(Mix.Project.project_file())
    config = Config.resolve!(project, argv, System.get_env(), root)
    ok!(LaunchSpec.supported(config))
    config
  end

  defp resolve_target(config, native) do
    host = native!(Target.host(native), "detecting the host (:host_info)")
    target = ok!(Target.resolve(config, host))
    warning = Target.libc_warning(config, target, host)
    if warning, do: Mix.shell().error("warning: " <> warning)
    {{host, target}, "resolved target #{target.triple}#{host_note(host)}"}
  end

  defp host_note(%{note: note}) when is_binary(note), do: " (#{note})"
  defp host_note(_host), do: ""

  defp pick_dispenser(config, target, host) do
    dispenser = ok!(Dispenser.for_target(config.execution_mode, target, host.arch))
    {dispenser, "using the dispenser #{Path.relative_to_cwd(dispenser)}"}
  end

  defp provision_erts(config, target, native, out) do
    progress = &Output.progress(out, &1)
    erts = ok!(ERTS.provision(config, target, native, progress: progress))
    if erts.warning, do: Mix.shell().error("warning: " <> erts.warning)

    {erts,
     "using ERTS #{erts.erts_version} (OTP #{erts.otp_version}, #{erts.source}) from #{erts.root}"}
  end

  # The format's own steps. Each gives a tree to pack at `.path`, described by `.name`,
  # `.version` and `.erts_version`. The project is built on `builder`, which is `erts`
  # unless that is another platform's.
  defp stage(%Config{format: :escript} = config, _project, native, erts, target, tmp, out) do
    builder = ERTS.builder(erts, target)
    escript = Output.step(out, fn -> build_escript(config, native, builder, tmp) end)
    tree = Output.step(out, fn -> resolve_app_tree(config, escript, erts) end)
    runtime = Output.step(out, fn -> stage_minimal_erts(erts, tree, tmp) end)
    Output.step(out, fn -> stage_escript(config, escript, tree, runtime) end)
  end

  defp stage(config, project, native, erts, target, tmp, out) do
    builder = ERTS.builder(erts, target)
    release = Output.step(out, fn -> build_release(config, project, native, builder, tmp) end)

    unless target.host?,
      do: Output.step(out, fn -> swap_runtime(release, erts, target, builder) end)

    Output.step(out, fn -> prune_release(release) end)
    Output.step(out, fn -> write_boot_script(release) end)
    release
  end

  defp build_escript(config, native, erts, tmp) do
    env = native!(Release.build_env(native, erts, System.get_env()), "sanitizing the environment")
    path = Path.join([tmp, "escript", config.binary_name])
    build_lib = ok!(Escript.build(config, env, path))
    escript = ok!(Escript.read(path))

    {{escript, build_lib},
     "built escript #{inspect(config.escript_module)} (MIX_ENV=prod, #{Output.bytes(File.stat!(path).size)})"}
  end

  defp resolve_app_tree(config, {escript, _build_lib}, erts) do
    tree = ok!(AppTree.resolve(config.app, escript.specs, erts.root))
    otp = Enum.map_join(tree.otp, ", ", &"#{&1.name}#{if &1.spec_only, do: " (.app only)"}")
    {tree, "resolved the application tree: OTP #{otp}"}
  end

  defp stage_minimal_erts(erts, tree, tmp) do
    runtime = ok!(MinimalERTS.stage(erts, tree, Path.join(tmp, "root")))
    size = Release.disk_size(runtime.path)
    {runtime, "staged a minimal ERTS #{runtime.erts_version} (#{Output.bytes(size)})"}
  end

  defp stage_escript(config, {escript, build_lib}, tree, runtime) do
    {escript, dropped} = Escript.prune(escript, tree, build_lib)
    staged = Escript.stage(escript, runtime, config)

    for {library, files} <- staged.needs do
      Mix.shell().error(
        "warning: #{Enum.join(files, ", ")} loads #{library} from the system: " <>
          "the target needs it installed"
      )
    end

    dropped_note = if dropped == [], do: "", else: ", left out #{Enum.join(dropped, ", ")}"
    {staged, "wrote #{staged.script} (#{length(escript.files)} files#{dropped_note})"}
  end

  defp estimate_size(config, tree, dispenser) do
    uncompressed = Release.disk_size(tree.path)

    estimate =
      SizeEstimate.estimate_size(uncompressed, config.compression, File.stat!(dispenser).size)

    {:ok, "estimated size: about #{Output.bytes(estimate)} at zstd #{config.compression}"}
  end

  defp build_release(config, project, native, erts, tmp) do
    name = ok!(Release.name(config, project))
    env = native!(Release.build_env(native, erts, System.get_env()), "sanitizing the environment")
    release = ok!(Release.build(config, name, env, tmp))
    {release, "built release #{release.name} #{release.version} (MIX_ENV=prod)"}
  end

  defp swap_runtime(release, erts, target, builder) do
    apps = ok!(RuntimeSwap.swap(release, erts, target, builder.root))

    {:ok,
     "swapped in the #{target.triple} runtime from #{erts.root}: erts-#{erts.erts_version} " <>
       "and the priv/ of #{length(apps)} OTP applications"}
  end

  defp prune_release(release) do
    freed = Release.prune(release)
    {:ok, "removed build-only files (#{Output.bytes(freed)})"}
  end

  defp write_boot_script(release) do
    ok!(BootScript.write(Path.join([release.path, "releases", release.version])))
    {:ok, "wrote releases/#{release.version}/batamanta.boot"}
  end

  defp libc_requirement(native, release, target) do
    files = Release.elf_files(release)

    result =
      native!(
        Native.request(native, :libc_requirement, %{paths: files}),
        "reading the libc requirement of #{release.path}"
      )

    libc = LaunchSpec.libc(result)
    warning = Target.runtime_libc_warning(target, libc)
    if warning, do: Mix.shell().error("warning: " <> warning)
    {libc, "checked #{length(files)} ELF files: needs libc #{libc}"}
  end

  defp launch_spec(config, release, target, erts, libc) do
    metadata = ok!(LaunchSpec.build(config, release, target, erts, libc))
    {metadata, "wrote the launch spec (#{config.format}, #{config.execution_mode})"}
  end

  defp pack(config, native, release, tmp, out) do
    output = Path.join(tmp, "payload.tar.zst")

    args = %{
      source: release.path,
      output: output,
      level: config.compression,
      mtime: config.source_date_epoch
    }

    progress = Output.progress(out, "compressing")
    result = native!(Native.request(native, :pack, args, progress), "packing #{release.path}")
    payload = Map.put(result, :path, output)

    {payload,
     "packed #{result.entries} entries: #{Output.bytes(result.uncompressed)} -> " <>
       "#{Output.bytes(result.size)} (zstd #{config.compression})"}
  end

  defp output_path(config, release, target) do
    case config.output do
      nil ->
        Path.join(config.project_root, "#{config.binary_name}-#{release.version}#{target.suffix}")

      path ->
        Path.expand(path, config.project_root)
    end
  end

  defp assemble(native, dispenser, payload, metadata, output) do
    File.mkdir_p!(Path.dirname(output))

    args = %{
      dispenser: dispenser,
      payload: payload.path,
      output: output,
      metadata: metadata,
      uncompressed: payload.uncompressed
    }

    binary = native!(Native.request(native, :assemble, args), "assembling #{output}")
    File.chmod!(output, 0o755)
    {binary, "assembled #{Path.relative_to_cwd(output)}"}
  end

  defp ok!(:ok), do: :ok
  defp ok!({:ok, value}), do: value
  defp ok!({:error, message}), do: Mix.raise(message)

  defp native!({:ok, value}, _doing), do: value

  defp native!({:error, code, message}, doing) do
    Mix.raise("batamanta-native failed while #{doing}: #{message} (#{code})")
  end
end
