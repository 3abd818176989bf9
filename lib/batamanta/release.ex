defmodule Batamanta.Release do
  @moduledoc """
  Builds the project's release in a subprocess and trims it to what a binary runs.

  `mix release` runs as `MIX_ENV=prod mix release NAME --path DIR` in the project
  directory, through `Batamanta.MixRun`, so the release embeds the same runtime that
  compiled it and no version-manager shim is involved.
  """

  alias Batamanta.{Config, MixRun, Staged, UnusedApps}

  # Development tools and Windows scripts: a running release never uses them.
  @build_only_bins ~w(erlc dialyzer typer ct_run yielding_c_fun erl_call run_erl to_erl)
  @build_only_dirs ~w(include lib doc man src)

  # A cookie copied into every binary would be no secret (a daemon gets a per-user
  # cookie from its dispenser instead, see `Batamanta.LaunchSpec`); it is also random
  # per build, which breaks reproducibility.
  @unused_release_files ~w(releases/COOKIE)

  @doc """
  Settles what the build is named after, before any work: for `format: :release` the
  release (`release:`, the only one, `default_release`, or the app's implicit release),
  which also names the output (`binary_name` defaults to it), and at an umbrella's root,
  which has no app of its own, the app and version too (from the release's config).
  An escript is named after the app. Errors name the release.
  """
  @spec resolve(Config.t(), keyword()) :: {:ok, Config.t()} | {:error, String.t()}
  def resolve(%Config{format: :escript} = config, project) do
    if Mix.Project.umbrella?(project) do
      {:error,
       "format :escript cannot be built at the root of an umbrella, which has no escript of " <>
         "its own: run mix batamanta in the app (apps/NAME) that has the escript: config"}
    else
      {:ok, %{config | binary_name: config.binary_name || to_string(config.app)}}
    end
  end

  def resolve(%Config{} = config, project) do
    with {:ok, name} <- name(config, project),
         :ok <- known(name, config) do
      release = project[:releases][String.to_atom(name)] || []

      {:ok,
       %{
         config
         | release: name,
           app: config.app || String.to_atom(name),
           version: release[:version] || config.version,
           binary_name: config.binary_name || name
       }}
    end
  end

  defp name(%Config{release: release}, _project) when release != nil, do: check_name(release)

  defp name(%Config{} = config, project) do
    case {project[:default_release], config.releases} do
      {nil, []} when config.app == nil -> {:error, no_releases(config)}
      {nil, []} -> {:ok, to_string(config.app)}
      {nil, [only]} -> {:ok, to_string(only)}
      {nil, names} -> several(names)
      {default, _} -> check_name(default)
    end
  end

  defp check_name(name) do
    name = to_string(name)

    if name =~ ~r/^[a-z][a-zA-Z0-9_]*$/,
      do: {:ok, name},
      else:
        {:error,
         Config.invalid(
           :release,
           name,
           "a release name starts with a lowercase letter and holds letters, digits and _"
         )}
  end

  defp known(name, %Config{releases: [], app: app} = config) do
    cond do
      app == nil -> {:error, no_releases(config)}
      name == to_string(app) -> :ok
      true -> {:error, unknown(name, [app], config)}
    end
  end

  defp known(name, %Config{releases: names} = config) do
    if name in Enum.map(names, &to_string/1),
      do: :ok,
      else: {:error, unknown(name, names, config)}
  end

  defp unknown(name, names, config) do
    "release #{name} (option release: / --release / default_release:) is not defined in " <>
      "#{Path.join(config.project_root, "mix.exs")}; its releases are " <>
      Enum.map_join(names, ", ", &to_string/1)
  end

  defp no_releases(config) do
    "the umbrella project at #{config.project_root} defines no release, and an umbrella " <>
      "has no implicit one: add `releases: [NAME: [applications: [app_a: :permanent, ...]]]` " <>
      "to the project in its mix.exs"
  end

  defp several(names) do
    {:error,
     "the project defines several releases (#{Enum.map_join(names, ", ", &inspect/1)}); " <>
       "choose one with release: in the batamanta config or --release NAME"}
  end

  @doc """
  Runs `mix release` for `name` into `dir/rel` and returns it as the tree to pack.
  """
  @spec build(Config.t(), String.t(), [{String.t(), String.t() | nil}], Path.t()) ::
          {:ok, Staged.t()} | {:error, String.t()}
  def build(%Config{} = config, name, env, dir) do
    path = Path.join(dir, "rel")
    # Without a releases: config Mix only knows the implicit release of the app, and
    # naming it is an error.
    named = if config.releases == [], do: [], else: [name]
    args = ["release"] ++ named ++ ["--path", path, "--overwrite", "--quiet"]

    with {:ok, _output} <- MixRun.run(args, env, cd: config.project_root) do
      staged(name, path)
    end
  end

  defp staged(name, path) do
    with {:ok, data} <- File.read(Path.join(path, "releases/start_erl.data")),
         [erts_version, version] <- String.split(data) do
      if File.dir?(Path.join(path, "erts-#{erts_version}")) do
        {:ok,
         %Staged{
           format: :release,
           name: name,
           path: path,
           version: version,
           erts_version: erts_version
         }}
      else
        {:error,
         "release #{name} has no erts-#{erts_version} directory: batamanta needs the runtime " <>
           "inside the release, so remove include_erts: false from its config in mix.exs"}
      end
    else
      _ -> {:error, "#{path} is not a release: releases/start_erl.data is missing or unreadable"}
    end
  end

  @doc """
  What the binary leaves out of the release (see `Batamanta.UnusedApps`): nothing with
  `keep_all: true`.
  """
  @spec unused(Staged.t(), Config.t(), keyword()) :: UnusedApps.t()
  def unused(%Staged{}, %Config{keep_all: true}, _project), do: %UnusedApps{}

  def unused(%Staged{} = release, %Config{} = config, project) do
    explicit =
      project[:releases]
      |> List.wrap()
      |> Enum.find_value([], fn {name, opts} -> to_string(name) == release.name && opts end)
      |> Keyword.get(:applications, [])
      |> Keyword.keys()

    UnusedApps.decide(release, config.app, explicit, config.execution_mode)
  end

  @doc """
  Removes build-only files and the `unused` paths from the staged release; returns how
  many bytes it freed.

  That includes the `.tar.gz` a release configured with `steps: [:assemble, :tar]`
  leaves at its root: packing it would ship the release twice.
  """
  @spec prune(Staged.t(), [Path.t()]) :: non_neg_integer()
  def prune(%Staged{format: :release} = release, unused \\ []) do
    erts = Staged.erts_dir(release)

    (Enum.map(@build_only_bins, &Path.join([erts, "bin", &1])) ++
       Enum.map(@build_only_dirs, &Path.join(erts, &1)) ++
       Enum.map(@unused_release_files, &Path.join(release.path, &1)) ++
       Path.wildcard(Path.join(release.path, "**/*.bat"), match_dot: true) ++
       Path.wildcard(Path.join(release.path, "*.tar.gz")) ++ unused)
    |> Enum.filter(&File.exists?/1)
    |> Enum.map(fn path ->
      size = Staged.disk_size(path)
      File.rm_rf!(path)
      size
    end)
    |> Enum.sum()
  end
end
