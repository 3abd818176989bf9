defmodule Batamanta.Pipeline do
  @moduledoc """
  The steps of `mix batamanta`, in the order `Mix.Tasks.Batamanta.run/1` pipes a
  `Batamanta.Build` through them:

    1. `resolve_config/2` makes the build from the project config and argv;
    2. `resolve_target/1`, `pick_dispenser/1`, `provision_erts/1` decide what is built
       for and with what;
    3. `build_project/1` makes the release or the escript, `stage_runtime/1` turns it
       into the tree to pack;
    4. `inspect_runtime/1` reads what that tree needs from the target system;
    5. `write_launch_spec/1`, `estimate_size/1`, `pack/1`, `assemble/1` make the
       binary.

  Each step takes the build and returns it with its own fields filled in, after
  printing one line per piece of work with the time it took (`Batamanta.Output`). The
  work itself is done by the modules of each concern (`Batamanta.Release`,
  `Batamanta.Escript`, `Batamanta.MinimalERTS`, `Batamanta.RuntimeSwap`,
  `Batamanta.BootScript`, `Batamanta.LaunchSpec`, ...), which return errors as values;
  this module is where they become `Mix.raise/1`.
  """

  alias Batamanta.{
    AppTree,
    Banner,
    BeamLiterals,
    BootScript,
    Build,
    BuildDir,
    Config,
    Dispenser,
    ERTS,
    Escript,
    EscriptApps,
    FrameCache,
    LaunchSpec,
    MinimalERTS,
    MixRun,
    Native,
    Output,
    Release,
    RuntimeSwap,
    SizeEstimate,
    Staged,
    SystemLibraries,
    Target
  }

  @doc """
  Resolves the config from the project's `mix.exs` and argv, shows the banner, and
  returns the build that the other steps fill in. The output mode depends on the
  config, so this step is timed before there is an output to report to.
  """
  @spec resolve_config(keyword(), [String.t()]) :: Build.t()
  def resolve_config(project, argv) do
    {micros, config} =
      :timer.tc(fn ->
        root = Path.dirname(Mix.Project.project_file())
        config = Config.resolve!(project, argv, System.get_env(), root)
        ok!(LaunchSpec.supported(config))
        if config.output, do: ok!(BuildDir.check_output(Path.expand(config.output, root)))
        ok!(Release.resolve(config, project))
      end)

    out = Output.new(config)
    Banner.show(config, out)
    Output.report(out, "resolved config for #{subject(config)} #{config.version}", micros)
    %Build{config: config, project: project, out: out}
  end

  defp subject(%Config{format: :escript, app: app}), do: "#{app}"
  defp subject(%Config{release: release}), do: "release #{release}"

  @doc "Detects the host and resolves the target triple from the config."
  @spec resolve_target(Build.t()) :: Build.t()
  def resolve_target(%Build{config: config} = build) do
    timed(build, fn ->
      host = ok!(Target.host(build.native), "detecting the host (:host_info)")
      target = ok!(Target.resolve(config, host))
      Output.warn(build.out, Target.libc_warning(config, target, host))

      {%{build | host: host, target: target},
       "resolved target #{target.triple}#{host_note(host)}"}
    end)
  end

  defp host_note(%{note: note}) when is_binary(note), do: " (#{note})"
  defp host_note(_host), do: ""

  @doc "Picks the dispenser for the execution mode and the target's arch."
  @spec pick_dispenser(Build.t()) :: Build.t()
  def pick_dispenser(%Build{config: config, target: target, host: host} = build) do
    timed(build, fn ->
      dispenser = ok!(Dispenser.for_target(config.execution_mode, target, host.arch))
      {%{build | dispenser: dispenser}, "using the dispenser #{Path.relative_to_cwd(dispenser)}"}
    end)
  end

  @doc "Finds or downloads the target's ERTS, and picks the runtime that builds the project."
  @spec provision_erts(Build.t()) :: Build.t()
  def provision_erts(%Build{out: out} = build) do
    timed(build, fn ->
      progress = &Output.progress(out, &1)
      erts = ok!(ERTS.provision(build.config, build.target, build.native, progress: progress))
      Output.warn(out, erts.warning)

      {%{build | erts: erts, builder: ERTS.builder(erts, build.target)},
       "using ERTS #{erts.erts_version} (OTP #{erts.otp_version}, #{erts.source}) from #{erts.root}"}
    end)
  end

  @doc """
  Builds the project in a subprocess: `mix release`, or `mix escript.build` for
  `format: :escript`. The build runs on the builder's OTP, which is the target's unless
  that is another platform's.
  """
  @spec build_project(Build.t()) :: Build.t()
  def build_project(%Build{config: %Config{format: :escript} = config} = build) do
    timed(build, fn ->
      env = build_env(build)
      path = Path.join([build.tmp, "escript", config.binary_name])
      build_lib = ok!(in_turn(build, fn -> Escript.build(config, env, path) end))
      escript = ok!(Escript.read(path))

      {%{build | escript: escript, build_lib: build_lib},
       "built escript #{inspect(config.escript_module)} (MIX_ENV=prod, #{Output.bytes(File.stat!(path).size)})"}
    end)
  end

  def build_project(%Build{config: config} = build) do
    timed(build, fn ->
      env = build_env(build)

      release =
        ok!(in_turn(build, fn -> Release.build(config, config.release, env, build.tmp) end))

      {%{build | staged: release},
       "built release #{release.name} #{release.version} (MIX_ENV=prod)"}
    end)
  end

  defp in_turn(%Build{config: config} = build, fun) do
    progress = Output.progress(build.out, "this project (#{config.project_root})")
    BuildDir.with_project_lock(build.native, config.project_root, progress, fun)
  end

  defp build_env(%Build{} = build) do
    ok!(
      MixRun.build_env(build.native, build.builder, System.get_env()),
      "sanitizing the environment"
    )
  end

  @doc """
  Makes the tree to pack. An escript gets a minimal runtime for its application tree;
  a release, already a tree, gets the target's runtime swapped in when it was built on
  another platform's, loses its build-only files and what the binary provably never
  runs (`Batamanta.UnusedApps`), has its BEAM literal tables stored for zstd
  (`Batamanta.BeamLiterals`) and gains the boot script of `Batamanta.BootScript`.
  """
  @spec stage_runtime(Build.t()) :: Build.t()
  def stage_runtime(%Build{config: %Config{format: :escript}, escript: escript} = build) do
    %Build{config: config, erts: erts} = build

    tree =
      timed(build, fn ->
        tree = ok!(AppTree.resolve(config.app, escript.specs, erts.root))
        otp = Enum.map_join(tree.otp, ", ", &"#{&1.name}#{if &1.spec_only, do: " (.app only)"}")
        {tree, "resolved the application tree: OTP #{otp}"}
      end)

    runtime =
      timed(build, fn ->
        runtime = ok!(MinimalERTS.stage(erts, tree, Path.join(build.tmp, "root")))
        size = Staged.disk_size(runtime.path)
        {runtime, "staged a minimal ERTS #{runtime.erts_version} (#{Output.bytes(size)})"}
      end)

    timed(build, fn ->
      {escript, dropped} = Escript.prune(escript, tree, build.build_lib)
      {escript, apps} = ok!(EscriptApps.split(escript, tree, build.build_lib))
      staged = Escript.stage(escript, runtime, config, apps)
      dropped_note = if dropped == [], do: "", else: ", left out #{Enum.join(dropped, ", ")}"

      shipped_note =
        if apps == [],
          do: "",
          else: ", beside it #{Enum.map_join(staged.code_paths, ", ", &Path.dirname/1)}"

      {%{build | staged: staged},
       "wrote #{staged.script} (#{length(escript.files)} files#{dropped_note}#{shipped_note})"}
    end)
  end

  def stage_runtime(%Build{staged: %Staged{format: :release} = release} = build) do
    %Build{erts: erts, target: target} = build

    unless target.host? do
      timed(build, fn ->
        apps = ok!(RuntimeSwap.swap(release, erts, target, build.builder.root))

        {:ok,
         "swapped in the #{target.triple} runtime from #{erts.root}: erts-#{erts.erts_version} " <>
           "and the priv/ of #{length(apps)} OTP applications"}
      end)
    end

    unused =
      timed(build, fn ->
        unused = Release.unused(release, build.config, build.project)
        bytes = Release.prune(release, unused.files)
        stored = BeamLiterals.store_uncompressed(release.path)

        {unused,
         "removed build-only files#{unused_note(unused)} (#{Output.bytes(bytes)}); " <>
           "stored the literal tables of #{stored} BEAM files uncompressed"}
      end)

    timed(build, fn ->
      ok!(BootScript.write(Path.join([release.path, "releases", release.version]), unused))
      {build, "wrote releases/#{release.version}/batamanta.boot"}
    end)
  end

  defp unused_note(%{files: []}), do: ""

  defp unused_note(unused) do
    apps =
      Enum.map(unused.dropped, &inspect/1) ++
        Enum.map(unused.spec_only, &"#{inspect(&1)}'s modules")

    ", left out #{Enum.join(apps ++ ["the release scripts"], ", ")} (unused; keep_all: true keeps them)"
  end

  @doc """
  Reads from the staged tree's ELF files what the target must provide: the libc the
  runtime was linked against, and the system libraries its NIFs and port programs load
  beyond what the emulator does (`needs`). Both are warned about here, once, and
  checked by the dispenser before it extracts.
  """
  @spec inspect_runtime(Build.t()) :: Build.t()
  def inspect_runtime(%Build{staged: staged} = build) do
    timed(build, fn ->
      nifs = Staged.nif_files(staged)
      files = Staged.elf_files(staged, nifs)

      result =
        ok!(
          Native.request(build.native, :libc_requirement, %{paths: files}),
          "reading the libc requirement of #{staged.path}"
        )

      libc = LaunchSpec.libc(result)
      Output.warn(build.out, Target.runtime_libc_warning(build.target, libc))
      beam = Path.join([Staged.erts_dir(staged), "bin", "beam.smp"])
      needs = SystemLibraries.extra_needs(result.needed, nifs, beam)

      for {library, users} <- needs do
        Output.warn(
          build.out,
          "#{Enum.join(users, ", ")} loads #{library} from the system: the target needs it installed"
        )
      end

      {%{build | libc: libc, needs: needs},
       "checked #{length(files)} ELF files: needs libc #{libc}"}
    end)
  end

  @doc "Builds the metadata records that tell the dispenser how to start the payload."
  @spec write_launch_spec(Build.t()) :: Build.t()
  def write_launch_spec(%Build{config: config} = build) do
    timed(build, fn ->
      libraries = Enum.map(build.needs, &elem(&1, 0))

      metadata =
        ok!(
          LaunchSpec.build(config, build.staged, build.target, build.erts, build.libc, libraries)
        )

      {%{build | metadata: metadata},
       "wrote the launch spec (#{config.format}, #{config.execution_mode})"}
    end)
  end

  @doc "Predicts the binary's size before the payload is compressed."
  @spec estimate_size(Build.t()) :: Build.t()
  def estimate_size(%Build{config: config} = build) do
    timed(build, fn ->
      uncompressed = Staged.disk_size(build.staged.path)
      dispenser_bytes = File.stat!(build.dispenser).size
      estimate = SizeEstimate.estimate_size(uncompressed, config.compression, dispenser_bytes)
      {build, "estimated size: about #{Output.bytes(estimate)} at zstd #{config.compression}"}
    end)
  end

  @doc "Packs the staged tree into the zstd-compressed tar payload."
  @spec pack(Build.t()) :: Build.t()
  def pack(%Build{config: config, staged: staged} = build) do
    timed(build, fn ->
      output = Path.join(build.tmp, "payload.tar.zst")

      # Without a cache directory it can create, the build compresses every frame.
      cache = FrameCache.dir(System.get_env())

      args = %{
        source: staged.path,
        output: output,
        level: config.compression,
        mtime: config.source_date_epoch,
        first_frame: FrameCache.first_frame(staged),
        cache: if(File.mkdir_p(cache) == :ok, do: cache)
      }

      progress = Output.progress(build.out, "compressing")

      result = ok!(Native.request(build.native, :pack, args, progress), "packing #{staged.path}")
      if args.cache, do: FrameCache.prune(cache)

      {%{build | payload: Map.put(result, :path, output)},
       "packed #{result.entries} entries: #{Output.bytes(result.uncompressed)} -> " <>
         "#{Output.bytes(result.size)} (zstd #{config.compression}" <>
         reused(result) <> ")"}
    end)
  end

  defp reused(%{reused: 0}), do: ""
  defp reused(%{reused: n, frames: n}), do: ", every frame from the cache"
  defp reused(%{reused: n, frames: frames}), do: ", #{n} of #{frames} frames from the cache"

  @doc "Writes the executable: dispenser, payload, metadata and trailer."
  @spec assemble(Build.t()) :: Build.t()
  def assemble(%Build{} = build) do
    output = output_path(build)

    timed(build, fn ->
      File.mkdir_p!(Path.dirname(output))

      args = %{
        dispenser: build.dispenser,
        payload: build.payload.path,
        output: output,
        metadata: build.metadata,
        uncompressed: build.payload.uncompressed
      }

      binary = ok!(Native.request(build.native, :assemble, args), "assembling #{output}")
      {%{build | output: output, binary: binary}, "assembled #{Path.relative_to_cwd(output)}"}
    end)
  end

  defp output_path(%Build{config: config, staged: staged, target: target}) do
    case config.output do
      nil ->
        Path.join(config.project_root, "#{config.binary_name}-#{staged.version}#{target.suffix}")

      path ->
        Path.expand(path, config.project_root)
    end
  end

  defp timed(%Build{out: out}, fun), do: Output.step(out, fun)

  defp ok!(result, doing \\ nil)
  defp ok!(:ok, _doing), do: :ok
  defp ok!({:ok, value}, _doing), do: value
  defp ok!({:error, message}, _doing), do: Mix.raise(message)

  defp ok!({:error, code, message}, doing) do
    Mix.raise("batamanta-native failed while #{doing}: #{message} (#{code})")
  end
end
