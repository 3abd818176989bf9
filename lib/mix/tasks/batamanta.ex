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

  The output lands in the project root as `<name>-<version>-<arch>-<os>`, for
  example `hello-0.1.0-x86_64-linux` (`-x86_64-linux-musl` for musl, `.exe` for
  Windows), where the name is `binary_name`, else the release's name (the app's for an
  escript), so each release of a project gets its own file.

  At the root of an umbrella project, `mix batamanta` builds the umbrella's release
  (its only one, `default_release`, or `--release`; an umbrella has no implicit
  release, so it must define `releases:`), and the binary is named after it. Inside a
  child app it builds that app's release.

  Builds run in a private temporary directory (a fresh random name under `TMPDIR`,
  mode 0700), so builds of one project can run at once: the `mix release` step of one
  project takes turns, and the output is written under a temporary name and renamed
  into place, so builds into the same path each leave a whole binary.

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
      A dependency with a `priv/` directory (a NIF, data files) is shipped as
      `lib/<app>-<vsn>/{ebin,priv}` beside the escript and put on the code path, so
      `:code.priv_dir/1` and `:erlang.load_nif/2` work; a `priv/` holding symlinks is
      refused at build time in favour of `format: :release`.

    * `compression` (`--compression`, `-c`) - zstd level from `1` to `19`. Default: `9`.
      `3` builds fastest, `19` gives the smallest binary.

    * `binary_name` (`--binary-name`) - the name of the output file, without `/`.
      Default: the release's name (the app's name for an escript).

    * `output` (`--output`, `-o`) - the output path, a file (a directory is refused
      before the build). Default: `<project root>/<name>-<version>-<arch>-<os>`.

    * `otp_version` (`--otp-version`) - `:auto` (default) or an OTP version string such
      as `"25.2.3"`.

    * `erts_target` (`--erts-target`) - `:auto` (default, this machine),
      `:ubuntu_22_04_x86_64`, `:ubuntu_22_04_arm64`, `:alpine_3_19_x86_64`,
      `:alpine_3_19_arm64`, `:macos_12_x86_64`, `:macos_12_arm64` or `:windows_x86_64`.

    * `force_os` (`--force-os`), `force_arch` (`--force-arch`), `force_libc`
      (`--force-libc`) - override one part of the target: `:linux`, `:macos` or
      `:windows`; `:x86_64` or `:aarch64`; `:gnu` or `:musl` (Linux only).

    * `erts_source` (`--erts-source`) - `:host` (`--erts-source host`), or the base URL
      of an ERTS mirror laid out as `<base>/<triple>/SHA256SUMS` and
      `<base>/<triple>/OTP-<version>.tar.gz`. Default: `$BATAMANTA_ERTS_SOURCE`, else
      Hex's public OTP builds for glibc Linux. `:host` embeds this machine's own OTP
      without any network access or warning (for this machine's target only). With
      the default source unreachable, a build with the default `otp_version`,
      `erts_target` and `force_*` embeds the host's OTP with a one-line warning; one
      that names a target or version is an error instead. Runtimes are cached in
      `$XDG_CACHE_HOME/batamanta/erts`; `mix batamanta.clean` removes them.

    * `escript_module` (`--escript-module`) - the escript's main module. Default: the
      `main_module` of the project's `escript:` config.

    * `release` (`--release`) - which release to build when the project defines several.
      Default: the only one, `default_release`, or the app's implicit release.

    * `show_banner` (`--no-banner`) - show the banner before the build: an image with
      the kitty graphics or iTerm2 inline-image protocol when the terminal advertises
      one, sixel through `img2sixel` on sixel terminals, text otherwise; never without
      a terminal or in CI. Default: `true`.

    * `--quiet`, `-q` - print only errors and the output path, no warnings. Default:
      off.

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

  alias Batamanta.{BuildDir, Native, Output, Pipeline}

  @impl true
  def run(argv) do
    Output.plain_if_asked(System.get_env())
    build = Pipeline.resolve_config(Mix.Project.config(), argv)

    tmp =
      case BuildDir.create() do
        {:ok, tmp} -> tmp
        {:error, message} -> Mix.raise(message)
      end

    native = Native.start()

    try do
      built =
        %{build | native: native, tmp: tmp}
        |> Pipeline.resolve_target()
        |> Pipeline.pick_dispenser()
        |> Pipeline.provision_erts()
        |> Pipeline.build_project()
        |> Pipeline.stage_runtime()
        |> Pipeline.inspect_runtime()
        |> Pipeline.write_launch_spec()
        |> Pipeline.estimate_size()
        |> Pipeline.pack()
        |> Pipeline.assemble()

      Output.summary(built.out, built)
    after
      Native.close(native)
      File.rm_rf(tmp)
    end
  end
end
