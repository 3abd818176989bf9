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
      project has an `escript:` config, `:release` otherwise.

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

    * `erts_source` (`--erts-source`) - base URL of an ERTS mirror. Default:
      `$BATAMANTA_ERTS_SOURCE`.

    * `escript_module` (`--escript-module`) - the escript's main module. Default: the
      `main_module` of the project's `escript:` config.

    * `release` (`--release`) - which release to build when the project defines several.
      Default: the only one, `default_release`, or the app's implicit release.

    * `show_banner` (`--no-banner`) - show the banner. Default: `true`.

    * `--quiet`, `-q` - print only errors and the output path.

  Flags take the value's name without the colon: `--mode tui`, `--erts-target
  alpine_3_19_x86_64`. An invalid value stops the build with a message that names the
  option and lists the valid ones.

  This version builds `format: :release` with `execution_mode: :cli` for the host's
  target. The other values are validated already, and a build that needs them stops
  with a message saying so.

  ## Examples

      $ mix batamanta                          # the host's target, settings from mix.exs
      $ mix batamanta --compression 19         # smallest binary, slower build
      $ mix batamanta -o dist/hello --quiet    # CI: prints only the output path
      $ SOURCE_DATE_EPOCH=1700000000 mix batamanta

  ## How a CLI app reads its arguments and finishes

  `System.argv/0` holds the binary's arguments, verbatim (none is read by `erl`),
  already inside the application's `start/2`. The app ends the program with
  `System.halt(status)`; a crash while starting exits non-zero with the error on
  stderr.

  ## Environment

    * `SOURCE_DATE_EPOCH` - the mtime of every payload entry (default `0`), so the same
      input gives the same bytes;
    * `BATAMANTA_ERTS_SOURCE` - default for `erts_source`;
    * `BATAMANTA_NATIVE` - use this helper executable instead of the compiled one.
  """

  use Mix.Task

  alias Batamanta.{BootScript, Config, ERTS, LaunchSpec, Native, Release, Target}

  @impl true
  def run(argv) do
    project = Mix.Project.config()
    {micros, config} = :timer.tc(fn -> resolve_config(project, argv) end)
    quiet = config.quiet
    report(quiet, "resolved config for #{config.app} #{config.version}", micros)

    tmp = Path.join(System.tmp_dir!(), "batamanta-#{System.unique_integer([:positive])}")
    native = Native.start()

    try do
      File.mkdir_p!(tmp)
      target = step(quiet, fn -> resolve_target(config, native) end)
      erts = step(quiet, fn -> provision_erts(config, target) end)
      release = step(quiet, fn -> build_release(config, project, native, erts, tmp) end)
      step(quiet, fn -> prune_release(release) end)
      step(quiet, fn -> write_boot_script(release) end)
      libc = step(quiet, fn -> libc_requirement(native, release) end)
      metadata = step(quiet, fn -> launch_spec(config, release, target, erts, libc) end)
      payload = step(quiet, fn -> pack(config, native, release, tmp) end)
      output = output_path(config, release, target)
      binary = step(quiet, fn -> assemble(native, payload, metadata, output) end)
      summary(config, output, binary, payload, target, erts, release, libc)
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
    {target, "resolved target #{target.triple}#{host_note(host)}"}
  end

  defp host_note(%{note: note}) when is_binary(note), do: " (#{note})"
  defp host_note(_host), do: ""

  defp provision_erts(config, target) do
    erts = ok!(ERTS.provision(config, target))
    {erts, "using ERTS #{erts.erts_version} (OTP #{erts.otp_version}) from #{erts.root}"}
  end

  defp build_release(config, project, native, erts, tmp) do
    name = ok!(Release.name(config, project))
    env = native!(Release.build_env(native, erts, System.get_env()), "sanitizing the environment")
    release = ok!(Release.build(config, name, env, tmp))
    {release, "built release #{release.name} #{release.version} (MIX_ENV=prod)"}
  end

  defp prune_release(release) do
    freed = Release.prune(release)
    {:ok, "removed build-only files (#{format_bytes(freed)})"}
  end

  defp write_boot_script(release) do
    ok!(BootScript.write(Path.join([release.path, "releases", release.version])))
    {:ok, "wrote releases/#{release.version}/batamanta.boot"}
  end

  defp libc_requirement(native, release) do
    files = Release.elf_files(release)

    result =
      native!(
        Native.request(native, :libc_requirement, %{paths: files}),
        "reading the libc requirement of #{release.path}"
      )

    libc = LaunchSpec.libc(result)
    {libc, "checked #{length(files)} ELF files: needs libc #{libc}"}
  end

  defp launch_spec(config, release, target, erts, libc) do
    metadata = ok!(LaunchSpec.build(config, release, target, erts, libc))
    {metadata, "wrote the launch spec (#{config.format}, #{config.execution_mode})"}
  end

  defp pack(config, native, release, tmp) do
    output = Path.join(tmp, "payload.tar.zst")

    args = %{
      source: release.path,
      output: output,
      level: config.compression,
      mtime: config.source_date_epoch
    }

    result = native!(Native.request(native, :pack, args), "packing #{release.path}")
    payload = Map.put(result, :path, output)

    {payload,
     "packed #{result.entries} entries: #{format_bytes(result.uncompressed)} -> " <>
       "#{format_bytes(result.size)} (zstd #{config.compression})"}
  end

  defp output_path(config, release, target) do
    case config.output do
      nil ->
        Path.join(config.project_root, "#{config.binary_name}-#{release.version}#{target.suffix}")

      path ->
        Path.expand(path, config.project_root)
    end
  end

  defp assemble(native, payload, metadata, output) do
    File.mkdir_p!(Path.dirname(output))

    args = %{
      dispenser: Native.product_path!("batamanta-dispenser"),
      payload: payload.path,
      output: output,
      metadata: metadata,
      uncompressed: payload.uncompressed
    }

    binary = native!(Native.request(native, :assemble, args), "assembling #{output}")
    File.chmod!(output, 0o755)
    {binary, "assembled #{Path.relative_to_cwd(output)}"}
  end

  defp summary(%Config{quiet: true}, output, _, _, _, _, _, _), do: Mix.shell().info(output)

  defp summary(config, output, binary, payload, target, erts, release, libc) do
    Mix.shell().info("""

    #{output}
      size         #{format_bytes(binary.size)} (payload #{format_bytes(payload.size)}, #{format_bytes(payload.uncompressed)} uncompressed)
      target       #{target.triple} (needs libc #{libc})
      erts         #{release.erts_version} (OTP #{erts.otp_version})
      format       #{config.format} (#{release.name} #{release.version})
      mode         #{config.execution_mode}
      compression  zstd #{config.compression}
      sha256       #{binary.sha256}\
    """)
  end

  # Each step returns {value, description}; the description is printed with the time.
  defp step(quiet, fun) do
    {micros, {value, description}} = :timer.tc(fun)
    report(quiet, description, micros)
    value
  end

  defp report(true, _description, _micros), do: :ok

  defp report(false, description, micros),
    do: Mix.shell().info("* #{description} (#{format_ms(micros)})")

  defp ok!(:ok), do: :ok
  defp ok!({:ok, value}), do: value
  defp ok!({:error, message}), do: Mix.raise(message)

  defp native!({:ok, value}, _doing), do: value

  defp native!({:error, code, message}, doing) do
    Mix.raise("batamanta-native failed while #{doing}: #{message} (#{code})")
  end

  defp format_ms(micros) when micros < 10_000, do: "#{Float.round(micros / 1000, 1)} ms"
  defp format_ms(micros) when micros < 10_000_000, do: "#{div(micros, 1000)} ms"
  defp format_ms(micros), do: "#{Float.round(micros / 1_000_000, 1)} s"

  defp format_bytes(bytes) when bytes < 1024, do: "#{bytes} B"
  defp format_bytes(bytes) when bytes < 1024 * 1024, do: "#{Float.round(bytes / 1024, 1)} KiB"
  defp format_bytes(bytes), do: "#{Float.round(bytes / (1024 * 1024), 2)} MiB"
end
