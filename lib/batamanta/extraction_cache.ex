defmodule Batamanta.ExtractionCache do
  @moduledoc """
  The Elixir side of the cache where binaries extract, as the "Cache" section of
  `docs/FORMAT.md` describes it: where it is (`dirs/1`), which of its names are
  batamanta's, and removing what no running binary uses (`remove_unused/2`).
  """

  alias Batamanta.{Env, Native, Staged}

  @marker ".batamanta-extraction"
  @new_prefix ".batamanta-new-"
  @leftover_prefixes [".batamanta-tmp-", ".batamanta-trash-"]
  @trash_prefix ".batamanta-trash-"
  # A `.batamanta-new-` directory is locked microseconds after it is made; one older
  # than this belongs to a process killed in between.
  @abandoned_after_seconds 60

  @doc """
  The directories binaries extract into for `env`: `$BATAMANTA_CACHE_DIR` alone when
  set, else the XDG one (when `HOME` or `XDG_CACHE_HOME` gives one) and the private
  `$TMPDIR/batamanta-<euid>` the dispenser falls back to when that is unusable.
  """
  @spec dirs(Env.t()) :: [Path.t()]
  def dirs(env) do
    case Env.value(env, "BATAMANTA_CACHE_DIR") do
      nil -> home_dir(Env.cache_home(env)) ++ [fallback_dir(env)]
      dir -> [Path.expand(dir)]
    end
  end

  defp home_dir(nil), do: []
  defp home_dir(cache_home), do: [Path.join(cache_home, "batamanta")]

  defp fallback_dir(env) do
    tmp =
      case Env.value(env, "TMPDIR") do
        "/" <> _ = tmp -> tmp
        _ -> "/tmp"
      end

    Path.join(tmp, "batamanta-#{euid()}")
  end

  # The dispenser is Linux-only, and so is this fallback; /proc/self/status gives the
  # effective uid as the second field of its `Uid:` line.
  defp euid do
    "/proc/self/status"
    |> File.read!()
    |> String.split("\n")
    |> Enum.find_value(fn
      "Uid:" <> ids -> ids |> String.split() |> Enum.at(1)
      _ -> nil
    end)
  end

  @doc """
  Removes from `dir` every extraction and leftover that no running binary uses.
  Returns the bytes freed per removed directory and how many were kept as in use.
  """
  @spec remove_unused(Native.t(), Path.t()) :: %{
          removed: [non_neg_integer()],
          busy: non_neg_integer()
        }
  def remove_unused(native, dir) do
    names =
      case File.ls(dir) do
        {:ok, names} -> Enum.sort(names)
        {:error, _} -> []
      end

    {removed, busy} =
      names
      |> Enum.filter(&ours?(dir, &1))
      |> Enum.map(&remove_if_unlocked(native, dir, &1))
      |> Enum.reject(&(&1 == :gone))
      |> Enum.split_with(&is_integer/1)

    %{removed: removed, busy: length(busy)}
  end

  defp ours?(dir, name) do
    path = Path.join(dir, name)

    case File.lstat(path, time: :posix) do
      {:ok, %File.Stat{type: :directory, mtime: mtime}} ->
        cond do
          String.starts_with?(name, @leftover_prefixes) -> true
          String.starts_with?(name, @new_prefix) -> abandoned?(mtime)
          name =~ ~r/^.+-[0-9a-f]{16}$/ -> marker?(Path.join(path, @marker))
          true -> false
        end

      _ ->
        false
    end
  end

  defp abandoned?(mtime), do: System.os_time(:second) - mtime > @abandoned_after_seconds

  defp marker?(path) do
    match?({:ok, "app=" <> _}, File.read(path))
  end

  # A running binary holds LOCK_SH on its extraction, so a free LOCK_EX proves that no
  # process uses it. Under that lock the directory is renamed to a trash name first, so
  # a binary starting meanwhile sees its name vanish and extracts afresh.
  defp remove_if_unlocked(native, dir, name) do
    path = Path.join(dir, name)

    case Native.request(native, :lock, %{path: path, wait: false, create: false}) do
      {:ok, %{lock: lock}} ->
        try do
          trash = trash_path(dir, name)

          case File.rename(path, trash) do
            :ok ->
              size = Staged.disk_size(trash)
              File.rm_rf!(trash)
              size

            {:error, _} ->
              :gone
          end
        after
          Native.request(native, :unlock, %{lock: lock})
        end

      {:error, :busy, _message} ->
        :busy

      {:error, _code, _message} ->
        :gone
    end
  end

  defp trash_path(dir, name) do
    if String.starts_with?(name, @trash_prefix),
      do: Path.join(dir, name),
      else: Path.join(dir, @trash_prefix <> Base.encode16(:rand.bytes(8), case: :lower))
  end
end
