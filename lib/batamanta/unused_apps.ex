defmodule Batamanta.UnusedApps do
  @moduledoc """
  Decides what of a release a `:cli` or `:tui` binary provably never uses.

  `mix release` adds applications the project did not ask for: `:sasl` (started, for
  release upgrades) and `:iex` (loaded by `bin/<release> remote`), plus shell scripts
  for `start`, `remote`, `eval` and `rpc`. A `:cli`/`:tui` binary runs `erlexec` with
  its own boot script and has none of those commands (a `:daemon` has them and keeps
  everything). What is left out:

    * an application of the `.rel` file outside the application tree (the project's
      application, kernel, stdlib, elixir and the applications named in the release's
      `applications:` config, following `applications`, `included_applications` and
      present `optional_applications` of each `.app`, transitively), unless a BEAM of
      the tree's own code names one of its modules;
    * the compiler's modules (its `.app` stays, Elixir's `.app` lists it) when only
      Elixir asks for `:compiler`, no BEAM of the tree's own code calls into it or into
      what compiles at run time (`Code.eval_*`, `Code.compile_*`, `Code.require_file`,
      `Module.create/3`, `Kernel.ParallelCompiler`, EEx), and there is no
      `config/runtime.exs` to evaluate at boot;
    * the release scripts and the runtime's scripts that only they call.

  "The tree's own code" is every application but the ones Elixir and OTP boot with
  (`@base`): their references to IEx or the compiler serve IEx sessions and run-time
  compilation, which only the rest of the tree can start. A module is "named" by a BEAM
  when it is in its atom table (which holds every module it calls, also through
  `apply/3` with a literal module); a call is one of its imports.
  """

  defstruct dropped: [], spec_only: [], modules: [], files: []

  @typedoc """
  `dropped`, `spec_only` - applications left out, and those reduced to their `.app`;
  `modules` - the modules of both, for the boot script; `files` - every path to remove.
  """
  @type t :: %__MODULE__{
          dropped: [atom()],
          spec_only: [atom()],
          modules: [module()],
          files: [Path.t()]
        }

  @roots [:kernel, :stdlib, :elixir]
  @base [:kernel, :stdlib, :elixir, :logger, :compiler, :sasl, :iex]

  @compiles_at_run_time [
    {Code, ~w(eval_string eval_quoted eval_quoted_with_env eval_file compile_string compile_quoted
        compile_file require_file load_file)a},
    {Module, [:create]},
    {Kernel.ParallelCompiler, :all},
    {EEx, :all},
    {EEx.Compiler, :all}
  ]

  # Read by `bin/<release>` and the commands it runs, never by a binary's erlexec.
  @release_scripts ~w(elixir iex remote.vm.args start_clean.boot start_clean.script)
  @runtime_scripts ~w(erl start start_erl dyn_erl escript)

  @doc """
  What a `mode` binary of the staged `release` of `app` leaves out; `explicit` are the
  applications the release config names. Nothing for `:daemon`.
  """
  @spec decide(Batamanta.Staged.t(), atom(), [atom()], atom()) :: t()
  def decide(_release, _app, _explicit, :daemon), do: %__MODULE__{}

  def decide(release, app, explicit, _mode) do
    specs = specs(release)
    tree = closure([app | explicit] ++ @roots, specs, MapSet.new())
    {kept, dropped} = keep_named(tree, Map.keys(specs) -- MapSet.to_list(tree), specs, release)
    spec_only = if compiler_unused?(kept, specs, release), do: [:compiler], else: []
    modules = Enum.flat_map(dropped ++ spec_only, &specs[&1].modules)

    %__MODULE__{
      dropped: Enum.sort(dropped),
      spec_only: spec_only,
      modules: modules,
      files:
        Enum.map(dropped, &app_dir(release, specs, &1)) ++
          Enum.flat_map(spec_only, &module_files(release, specs, &1)) ++
          consolidated(release, dropped, specs) ++ scripts(release)
    }
  end

  defp specs(release) do
    rel = Path.join([release.path, "releases", release.version, "#{release.name}.rel"])
    {:ok, [{:release, _, _, apps}]} = :file.consult(rel)

    Map.new(apps, fn entry ->
      {name, vsn} = {elem(entry, 0), elem(entry, 1)}
      file = Path.join([release.path, "lib", "#{name}-#{vsn}", "ebin", "#{name}.app"])
      {:ok, [{:application, ^name, spec}]} = :file.consult(file)

      {name,
       %{
         vsn: to_string(vsn),
         modules: spec[:modules] || [],
         needs: (spec[:applications] || []) ++ (spec[:included_applications] || [])
       }}
    end)
  end

  defp closure([], _specs, seen), do: seen

  defp closure([app | rest], specs, seen) do
    cond do
      MapSet.member?(seen, app) -> closure(rest, specs, seen)
      Map.has_key?(specs, app) -> closure(specs[app].needs ++ rest, specs, MapSet.put(seen, app))
      true -> closure(rest, specs, seen)
    end
  end

  # A candidate named by the tree's own code joins the tree, with what it needs, and
  # its own BEAMs count from then on.
  defp keep_named(tree, candidates, specs, release) do
    atoms = tree |> own_apps() |> Enum.flat_map(&beams(release, specs, &1)) |> atoms()

    case Enum.filter(candidates, fn app -> Enum.any?(specs[app].modules, &(&1 in atoms)) end) do
      [] ->
        {tree, candidates}

      named ->
        tree = closure(named, specs, tree)
        keep_named(tree, candidates -- MapSet.to_list(tree), specs, release)
    end
  end

  defp compiler_unused?(tree, specs, release) do
    compiler = specs[:compiler]
    needers = Enum.filter(tree, &(:compiler in specs[&1].needs))

    compiler != nil and needers == [:elixir] and
      not Batamanta.LaunchSpec.runtime_config?(
        Path.join([release.path, "releases", release.version, "sys.config"])
      ) and
      not (tree
           |> own_apps()
           |> Enum.flat_map(&beams(release, specs, &1))
           |> Enum.any?(&compiles?(&1, compiler.modules)))
  end

  @doc "Whether the BEAM file at `path` calls into `compiler_modules` or compiles at run time."
  @spec compiles?(Path.t(), [module()]) :: boolean()
  def compiles?(path, compiler_modules) do
    {:ok, {_, [imports: imports]}} = :beam_lib.chunks(String.to_charlist(path), [:imports])

    Enum.any?(imports, fn {module, function, _arity} ->
      module in compiler_modules or
        Enum.any?(@compiles_at_run_time, fn
          {^module, :all} -> true
          {^module, functions} -> function in functions
          _ -> false
        end)
    end)
  end

  defp own_apps(tree), do: Enum.reject(tree, &(&1 in @base))

  defp beams(release, specs, app) do
    Path.wildcard(Path.join([app_dir(release, specs, app), "ebin", "*.beam"]))
  end

  defp atoms(beams) do
    beams
    |> Enum.flat_map(fn path ->
      {:ok, {_, [atoms: atoms]}} = :beam_lib.chunks(String.to_charlist(path), [:atoms])
      Enum.map(atoms, &elem(&1, 1))
    end)
    |> MapSet.new()
  end

  defp module_files(release, specs, app) do
    Enum.map(specs[app].modules, &Path.join([app_dir(release, specs, app), "ebin", "#{&1}.beam"]))
  end

  defp app_dir(release, specs, app),
    do: Path.join([release.path, "lib", "#{app}-#{specs[app].vsn}"])

  # Protocols defined by a left-out application, consolidated by the release.
  defp consolidated(release, dropped, specs) do
    dir = Path.join([release.path, "releases", release.version, "consolidated"])
    modules = MapSet.new(Enum.flat_map(dropped, &specs[&1].modules))

    dir
    |> Path.join("*.beam")
    |> Path.wildcard()
    |> Enum.filter(&(String.to_atom(Path.basename(&1, ".beam")) in modules))
  end

  defp scripts(release) do
    [Path.join(release.path, "bin")] ++
      Enum.map(@release_scripts, &Path.join([release.path, "releases", release.version, &1])) ++
      Enum.map(@runtime_scripts, &Path.join([Batamanta.Staged.erts_dir(release), "bin", &1]))
  end
end
