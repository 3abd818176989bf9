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
  `$XDG_CACHE_HOME/batamanta`; the "Cache" section of docs/FORMAT.md has the layout) and
  execs the VM, so signals, the TTY, stdin/stdout and the exit status pass straight
  through.

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

  #{Batamanta.Config.doc()}
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
