defmodule Batamanta.EscriptApps do
  @moduledoc """
  Ships the escript's applications that have a `priv/` directory as directories next
  to the escript, so their NIFs and data files work.

  `mix escript.build` flattens a dependency's `priv/` files into the archive, where
  `:code.priv_dir/1` cannot find them (it answers `{:error, :bad_name}`) and
  `:erlang.load_nif/2` cannot load a `.so` from a zip. So each embedded application
  with a non-empty `priv/` under the build's lib directory is taken out of the archive
  (its `.app`, modules and priv files) and copied whole into the payload as
  `lib/<app>-<vsn>/{ebin,priv}`; its `ebin` goes on the code path (`-pa`), which is where
  `:code.lib_dir/1` looks.

  A `priv/` holding a symlink cannot be shipped faithfully (its target is on the build
  machine), so it is refused at build time, naming the app; `format: :release` ships
  such trees as `mix release` does.
  """

  alias Batamanta.{AppTree, Escript}

  defstruct [:name, :vsn, :dir]

  @type t :: %__MODULE__{name: atom(), vsn: String.t(), dir: Path.t()}

  @doc """
  Splits off the embedded applications of `tree` that have a `priv/` under `build_lib`:
  returns the escript without their files, and the applications to ship.
  """
  @spec split(Escript.t(), AppTree.t(), Path.t()) ::
          {:ok, {Escript.t(), [t()]}} | {:error, String.t()}
  def split(%Escript{} = escript, %AppTree{embedded: embedded}, build_lib) do
    apps =
      for name <- embedded,
          spec = escript.specs[name],
          spec != nil,
          dir = Path.join(build_lib, to_string(name)),
          priv_files(dir) != [],
          do: %__MODULE__{name: name, vsn: to_string(spec[:vsn]), dir: dir}

    with :ok <- check(apps) do
      {:ok, {Escript.drop(escript, Enum.map(apps, & &1.name), build_lib), apps}}
    end
  end

  defp priv_files(dir) do
    Path.join([dir, "priv", "**", "*"])
    |> Path.wildcard(match_dot: true)
    |> Enum.reject(&match?({:ok, %File.Stat{type: :directory}}, File.lstat(&1)))
  end

  defp check(apps) do
    Enum.find_value(apps, :ok, fn app ->
      case Enum.find(priv_files(app.dir), &symlink?/1) do
        nil ->
          nil

        link ->
          {:error,
           "format :escript cannot ship #{app.name}'s priv/: #{Path.relative_to(link, app.dir)} " <>
             "is a symlink, whose target would be missing on the machine that runs the " <>
             "binary. Build it with format: :release (--format release), which ships " <>
             "#{app.name} as mix release does"}
      end
    end)
  end

  defp symlink?(path), do: match?({:ok, %File.Stat{type: :symlink}}, File.lstat(path))

  @doc """
  Copies the applications into `root/lib/<app>-<vsn>` and returns their `ebin`
  directories relative to `root`, for the code path.
  """
  @spec copy([t()], Path.t()) :: [Path.t()]
  def copy(apps, root) do
    for app <- apps do
      relative = Path.join("lib", "#{app.name}-#{app.vsn}")
      File.mkdir_p!(Path.join(root, relative))

      for sub <- ["ebin", "priv"] do
        # Mix links priv/ into _build for path deps; the copy takes what it points at.
        source = Path.join(app.dir, sub)
        {:ok, resolved} = resolve_link(source)
        if File.dir?(resolved), do: File.cp_r!(resolved, Path.join([root, relative, sub]))
      end

      Path.join(relative, "ebin")
    end
  end

  defp resolve_link(path) do
    case File.read_link(path) do
      {:ok, target} -> {:ok, Path.expand(target, Path.dirname(path))}
      {:error, _} -> {:ok, path}
    end
  end
end
