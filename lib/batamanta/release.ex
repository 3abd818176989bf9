defmodule Batamanta.Release do
  @moduledoc """
  Builds the project's release in a subprocess and trims it to what a binary runs.

  `mix release` runs as `MIX_ENV=prod mix release NAME --path DIR` in the project
  directory, through `Batamanta.MixRun`, so the release embeds the same runtime that
  compiled it and no version-manager shim is involved.
  """

  alias Batamanta.{Config, MixRun}

  defstruct [:name, :path, :version, :erts_version]

  @type t :: %__MODULE__{
          name: String.t(),
          path: Path.t(),
          version: String.t(),
          erts_version: String.t()
        }

  # Development tools and Windows scripts: a running release never uses them.
  @build_only_bins ~w(erlc dialyzer typer ct_run yielding_c_fun erl_call run_erl to_erl)
  @build_only_dirs ~w(include lib doc man src)

  # The launch spec never starts distribution, and a cookie copied into every binary
  # would be no secret; it is also random per build, which breaks reproducibility.
  @unused_release_files ~w(releases/COOKIE)

  @doc "Picks the release to build: `release:`, the only one, `default_release`, or the app."
  @spec name(Config.t(), keyword()) :: {:ok, String.t()} | {:error, String.t()}
  def name(%Config{release: release}, _project) when release != nil, do: check_name(release)

  def name(%Config{} = config, project) do
    case {project[:default_release], config.releases} do
      {nil, []} -> {:ok, to_string(config.app)}
      {nil, [only]} -> {:ok, to_string(only)}
      {nil, names} -> several(names)
      {default, _} -> {:ok, to_string(default)}
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

  defp several(names) do
    {:error,
     "the project defines several releases (#{Enum.map_join(names, ", ", &inspect/1)}); " <>
       "choose one with release: in the batamanta config or --release NAME"}
  end

  @doc """
  Runs `mix release` for `name` into `dir/rel` and returns the staged release.
  """
  @spec build(Config.t(), String.t(), [{String.t(), String.t() | nil}], Path.t()) ::
          {:ok, t()} | {:error, String.t()}
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
        {:ok, %__MODULE__{name: name, path: path, version: version, erts_version: erts_version}}
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
  Removes build-only files from the staged release; returns how many bytes it freed.

  That includes the `.tar.gz` a release configured with `steps: [:assemble, :tar]`
  leaves at its root: packing it would ship the release twice.
  """
  @spec prune(t()) :: non_neg_integer()
  def prune(%__MODULE__{} = release) do
    erts = Path.join(release.path, "erts-#{release.erts_version}")

    (Enum.map(@build_only_bins, &Path.join([erts, "bin", &1])) ++
       Enum.map(@build_only_dirs, &Path.join(erts, &1)) ++
       Enum.map(@unused_release_files, &Path.join(release.path, &1)) ++
       Path.wildcard(Path.join(release.path, "**/*.bat"), match_dot: true) ++
       Path.wildcard(Path.join(release.path, "*.tar.gz")))
    |> Enum.filter(&File.exists?/1)
    |> Enum.map(fn path ->
      size = disk_size(path)
      File.rm_rf!(path)
      size
    end)
    |> Enum.sum()
  end

  @doc "Total size in bytes of the regular files under `path`."
  @spec disk_size(Path.t()) :: non_neg_integer()
  def disk_size(path) do
    case File.lstat(path) do
      {:ok, %File.Stat{type: :directory}} ->
        path |> File.ls!() |> Enum.map(&disk_size(Path.join(path, &1))) |> Enum.sum()

      {:ok, %File.Stat{type: :regular, size: size}} ->
        size

      _ ->
        0
    end
  end

  @doc """
  The ELF files the runtime loads: erts binaries plus `nifs`, what `nif_files/1` returned
  for the same tree (callers need that list on its own as well).
  """
  @spec elf_files(%{path: Path.t()}, [Path.t()]) :: [Path.t()]
  def elf_files(%{path: path}, nifs) do
    path
    |> Path.join("erts-*/bin/*")
    |> Path.wildcard()
    |> Enum.filter(&elf?/1)
    |> Enum.concat(nifs)
    |> Enum.sort()
  end

  @doc "The ELF files in the applications' `priv/`: NIFs and port programs."
  @spec nif_files(%{path: Path.t()}) :: [Path.t()]
  def nif_files(%{path: path}) do
    path |> Path.join("lib/*/priv/**/*") |> Path.wildcard() |> Enum.filter(&elf?/1) |> Enum.sort()
  end

  defp elf?(path) do
    File.regular?(path) and
      match?({:ok, <<0x7F, "ELF">>}, File.open(path, [:read, :binary], &IO.binread(&1, 4)))
  end
end
