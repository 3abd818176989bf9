defmodule Batamanta.FrameCache do
  @keep 8

  @moduledoc """
  The per-user cache of compressed payload frames:
  `$XDG_CACHE_HOME/batamanta/frames/<sha256>.zst` (default `~/.cache/...`).

  `:pack` writes the payload as two zstd frames: first the runtime (`erts-<vsn>/` and
  the applications that come with OTP and Elixir), then the rest (the project's own
  applications, its dependencies, `releases/`, `bin/`). A rebuild changes the second
  and rarely the first, so the helper names each frame for a hash of its tar bytes and
  the compressor's settings, and copies a frame it finds here instead of compressing it
  again; the binary is the same bytes either way. A hit is decoded and checked before
  it is used (`FrameCache.swift`).

  The cache keeps the #{@keep} most recently used frames (about 4 MB each for a small app
  at the default level); `prune/1` removes the rest after each build.
  """

  alias Batamanta.ERTS.Cache
  alias Batamanta.Staged

  @doc "The cache directory."
  @spec dir(%{String.t() => String.t()}) :: Path.t()
  def dir(env), do: Path.join([Cache.cache_home(env), "batamanta", "frames"])

  @doc """
  The roots of the first frame, relative to the staged tree: its runtime and every
  application under `lib/` that is not one of `project_apps` (the project's own and its
  dependencies').
  """
  @spec first_frame(Staged.t(), [atom()]) :: [Path.t()]
  def first_frame(staged, project_apps \\ project_apps())

  def first_frame(%Staged{path: path, erts_version: vsn}, project_apps) do
    own = MapSet.new(project_apps, &to_string/1)

    dirs =
      case File.ls(Path.join(path, "lib")) do
        {:ok, dirs} -> Enum.sort(dirs)
        {:error, _} -> []
      end

    libs =
      for dir <- dirs,
          not MapSet.member?(own, app_name(dir)),
          do: Path.join("lib", dir)

    ["erts-#{vsn}" | libs]
  end

  # The applications `mix batamanta` compiles for this project.
  defp project_apps do
    own = Map.keys(Mix.Project.apps_paths() || %{}) ++ List.wrap(Mix.Project.config()[:app])
    own ++ Map.keys(Mix.Project.deps_paths())
  end

  # `<app>-<vsn>`, where a version may hold dashes (`2.0.0-rc.1`) and an app name does not.
  defp app_name(dir), do: dir |> String.split("-", parts: 2) |> hd()

  @doc "Removes all but the #{@keep} most recently used frames."
  @spec prune(Path.t()) :: :ok
  def prune(dir) do
    case File.ls(dir) do
      {:ok, names} ->
        names
        |> Enum.filter(&String.ends_with?(&1, ".zst"))
        |> Enum.map(&Path.join(dir, &1))
        |> Enum.flat_map(fn file ->
          case File.stat(file, time: :posix) do
            {:ok, %File.Stat{mtime: mtime}} -> [{mtime, file}]
            {:error, _} -> []
          end
        end)
        |> Enum.sort(:desc)
        |> Enum.drop(@keep)
        |> Enum.each(fn {_, file} -> File.rm(file) end)

      {:error, _} ->
        :ok
    end
  end
end
