defmodule Batamanta.Escript do
  @moduledoc """
  Builds the project's escript in a subprocess and rewrites it for the payload.

  `mix escript.build` runs as `MIX_ENV=prod mix batamanta.build_escript PATH MODULE`
  in the project directory, in the environment `Batamanta.MixRun.build_env/3` returns,
  so the escript lands in batamanta's temporary directory (the project's own escript
  file is left alone) and `escript_module:` is the main module.

  The built escript is then read back (`read/1`): its `%%!` emulator arguments, and the
  files of its archive. Mix embeds every dependency, including `runtime: false` ones
  such as batamanta itself, so `prune/3` keeps only the applications of the project's
  application tree. `write/2` stores the archive uncompressed, because zstd compresses
  the whole payload far better than zip's per-file deflate.
  """

  alias Batamanta.{AppTree, Config, EscriptApps, MinimalERTS, MixRun, Staged}

  defstruct [:emu_args, :files, :specs, :shebang, :comment]

  # 1980-01-01T00:00:00Z, the first date a zip entry can hold.
  @zip_epoch 315_532_800

  @type t :: %__MODULE__{
          emu_args: [String.t()],
          files: [{charlist(), binary()}],
          specs: %{atom() => keyword()},
          shebang: String.t(),
          comment: String.t()
        }

  @doc """
  Runs `mix escript.build` for the project into `path`; returns the build's lib
  directory (`_build/prod/lib`).
  """
  @spec build(Config.t(), [{String.t(), String.t() | nil}], Path.t()) ::
          {:ok, Path.t()} | {:error, String.t()}
  def build(%Config{} = config, env, path) do
    args = ["batamanta.build_escript", path, Atom.to_string(config.escript_module)]

    command = "`MIX_ENV=prod mix escript.build` (main module #{inspect(config.escript_module)})"

    with {:ok, output} <- MixRun.run(args, env, cd: config.project_root, command: command) do
      case File.read(path <> ".lib") do
        {:ok, build_lib} when is_binary(build_lib) ->
          {:ok, build_lib}

        {:error, _} ->
          {:error, "`mix escript.build` in #{config.project_root} wrote no #{path}:\n\n#{output}"}
      end
    end
  end

  @doc "Reads an escript: its emulator arguments, archive files and application specs."
  @spec read(Path.t()) :: {:ok, t()} | {:error, String.t()}
  def read(path) do
    with {:ok, sections} <- extract(path),
         {:ok, files} <- archive_files(path, sections[:archive]) do
      {:ok,
       %__MODULE__{
         emu_args: emu_args(sections[:emu_args]),
         files: files,
         specs: specs(files),
         shebang: to_string(sections[:shebang] || "/usr/bin/env escript"),
         comment: to_string(sections[:comment] || "")
       }}
    end
  end

  defp extract(path) do
    case :escript.extract(String.to_charlist(path), []) do
      {:ok, sections} -> {:ok, sections}
      {:error, reason} -> {:error, "cannot read the escript #{path}: #{inspect(reason)}"}
    end
  end

  defp archive_files(path, nil),
    do: {:error, "#{path} is not an archive escript; was it built by `mix escript.build`?"}

  defp archive_files(path, archive) do
    case :zip.extract(archive, [:memory]) do
      {:ok, files} -> {:ok, files}
      {:error, reason} -> {:error, "cannot read the archive of #{path}: #{inspect(reason)}"}
    end
  end

  @doc "Splits a `%%!` line into arguments, the way the `escript` program does."
  @spec emu_args(charlist() | String.t() | nil) :: [String.t()]
  def emu_args(nil), do: []
  def emu_args(line), do: line |> to_string() |> String.split([" ", "\t"], trim: true)

  # Mix puts `<app>/ebin/*.app` at the top of the archive.
  defp specs(files) do
    for {name, contents} <- files,
        Path.extname(to_string(name)) == ".app",
        {:ok, {:application, app, spec}} <- [parse_term(contents)],
        into: %{},
        do: {app, spec}
  end

  defp parse_term(contents) do
    with {:ok, tokens, _} <- :erl_scan.string(String.to_charlist(contents)),
         {:ok, term} <- :erl_parse.parse_term(tokens) do
      {:ok, term}
    end
  end

  @doc """
  Drops the embedded applications that are not in `tree`, the project's application
  tree: their `.app`, their modules and the files of their `priv/` directory under
  `build_lib` (Mix flattens priv files into the archive root). Returns the pruned
  escript and the dropped applications.
  """
  @spec prune(t(), AppTree.t(), Path.t()) :: {t(), [atom()]}
  def prune(%__MODULE__{} = escript, %AppTree{embedded: embedded}, build_lib) do
    dropped = escript.specs |> Map.keys() |> Enum.reject(&(&1 in embedded)) |> Enum.sort()
    {drop(escript, dropped, build_lib), dropped}
  end

  @doc """
  Removes the applications `apps` from the escript's archive: their `.app`, their
  modules and their priv files (found under `build_lib`).
  """
  @spec drop(t(), [atom()], Path.t()) :: t()
  def drop(%__MODULE__{} = escript, apps, build_lib) do
    names =
      apps
      |> Enum.flat_map(&(app_files(escript.specs[&1], &1) ++ priv_files(build_lib, &1)))
      |> MapSet.new()

    files = Enum.reject(escript.files, fn {name, _} -> MapSet.member?(names, name) end)
    %{escript | files: files, specs: Map.drop(escript.specs, apps)}
  end

  defp app_files(spec, app) do
    ['#{app}.app' | Enum.map(spec[:modules] || [], &'#{&1}.beam')]
  end

  defp priv_files(build_lib, app) do
    Path.join([build_lib, to_string(app), "priv", "**", "*"])
    |> Path.wildcard(match_dot: true)
    |> Enum.filter(&File.regular?/1)
    |> Enum.map(&String.to_charlist(Path.basename(&1)))
  end

  @doc """
  Writes the escript to `path`, its archive stored uncompressed, every entry dated
  `mtime` (seconds since the epoch, at least 1980 as zip dates cannot go lower) so
  the same input gives the same bytes.
  """
  @spec write(t(), Path.t(), non_neg_integer()) :: :ok
  def write(%__MODULE__{} = escript, path, mtime) do
    # zip dates entries given as binaries with the current time, files with theirs.
    staging = path <> ".files"
    time = max(mtime, @zip_epoch)
    names = escript.files |> Enum.map(&elem(&1, 0)) |> Enum.sort()

    for {name, contents} <- escript.files do
      file = Path.join(staging, to_string(name))
      File.mkdir_p!(Path.dirname(file))
      File.write!(file, contents)
      File.touch!(file, time)
    end

    {:ok, {_, archive}} =
      :zip.create(~c"archive", names, [
        :memory,
        cwd: String.to_charlist(staging),
        uncompress: :all
      ])

    sections = [
      {:shebang, String.to_charlist(escript.shebang)},
      {:comment, String.to_charlist(escript.comment)},
      {:emu_args, String.to_charlist(Enum.join(escript.emu_args, " "))},
      {:archive, archive}
    ]

    File.mkdir_p!(Path.dirname(path))
    :ok = :escript.create(String.to_charlist(path), sections)
    File.rm_rf!(staging)
    File.chmod!(path, 0o755)
  end

  @doc """
  Writes the escript as `bin/<binary_name>` into the staged `runtime`, copies the
  applications `apps` beside it, and describes the resulting payload tree.
  """
  @spec stage(t(), MinimalERTS.t(), Config.t(), [EscriptApps.t()]) :: Staged.t()
  def stage(%__MODULE__{} = escript, %MinimalERTS{} = runtime, %Config{} = config, apps) do
    script = Path.join("bin", config.binary_name)
    write(escript, Path.join(runtime.path, script), config.source_date_epoch)
    code_paths = EscriptApps.copy(apps, runtime.path)

    %Staged{
      format: :escript,
      name: to_string(config.app),
      path: runtime.path,
      version: config.version,
      erts_version: runtime.erts_version,
      script: script,
      emu_args: escript.emu_args,
      boot: runtime.boot,
      code_paths: code_paths
    }
  end
end
