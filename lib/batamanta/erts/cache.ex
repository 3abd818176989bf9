defmodule Batamanta.ERTS.Cache do
  @moduledoc """
  The per-user cache of installed OTP trees:
  `$XDG_CACHE_HOME/batamanta/erts/<triple>/OTP-<version>/` (default `~/.cache/...`).

  An entry appears only complete: it is unpacked and installed in a
  `.tmp-OTP-<version>-*` directory next to it and renamed into place. One exclusive
  `flock` per entry (`OTP-<version>.lock`, held by the helper, see `:lock` in
  docs/PROTOCOL.md) serialises installers: concurrent builds on a cold cache wait for
  the first, then find its entry. A lock dies with its helper, so a build killed at any
  point leaves at most a `.tmp-*` directory, which the next installer of that entry
  removes while holding the lock.
  """

  alias Batamanta.{Env, Native}
  alias Batamanta.ERTS.Tree

  @doc "The cache root for ERTS trees."
  @spec root(%{String.t() => String.t()}) :: Path.t()
  def root(env), do: Path.join([cache_home(env), "batamanta", "erts"])

  @doc """
  `Batamanta.Env.cache_home/1`, with the user's home directory from the system when
  `HOME` is unset.
  """
  @spec cache_home(Env.t()) :: Path.t()
  def cache_home(env) do
    Env.cache_home(env) || Path.join(System.user_home!(), ".cache")
  end

  @doc "The directory of one entry."
  @spec entry(Path.t(), String.t(), String.t()) :: Path.t()
  def entry(root, triple, version), do: Path.join([root, triple, "OTP-#{version}"])

  @doc "The versions of a complete entry, or `:miss`."
  @spec lookup(Path.t()) :: {:ok, map()} | :miss
  def lookup(entry) do
    case Tree.verify(entry) do
      {:ok, info} -> {:ok, info}
      {:error, _} -> :miss
    end
  end

  @doc """
  Fills `entry` unless another process did, holding the entry's lock throughout.

  `fill` gets an empty temporary directory next to the entry and returns
  `{:ok, tree_root, warnings}` for a tree inside it that is installed for the entry's
  path; that tree is verified, `check` gets its versions and returns `:ok` or an error,
  and only then is the tree renamed into place. Returns the entry's versions, whether
  this call installed it (`:installed`, with `fill`'s warnings) or found it (`:hit`, no
  warnings).
  """
  @spec install(
          Native.t(),
          Path.t(),
          (Path.t() -> {:ok, Path.t(), [String.t()]} | {:error, String.t()}),
          (map() -> :ok | {:error, String.t()}),
          (map() ->
             any())
        ) ::
          {:ok, map(), :installed | :hit, [String.t()]} | {:error, String.t()}
  def install(native, entry, fill, check, on_progress) do
    File.mkdir_p!(Path.dirname(entry))

    locked =
      Native.with_lock(native, %{path: entry <> ".lock"}, on_progress, fn ->
        case lookup(entry) do
          {:ok, info} -> {:ok, info, :hit, []}
          :miss -> fill_entry(entry, fill, check)
        end
      end)

    case locked do
      {:error, _code, message} ->
        {:error, "cannot lock the ERTS cache entry #{entry}: #{message}"}

      result ->
        result
    end
  end

  defp fill_entry(entry, fill, check) do
    dir = Path.dirname(entry)
    prefix = ".tmp-#{Path.basename(entry)}-"
    # Only a killed installer leaves these, and the lock proves it is gone.
    Enum.each(Path.wildcard(Path.join(dir, prefix <> "*"), match_dot: true), &File.rm_rf/1)
    File.rm_rf(entry)
    tmp = Path.join(dir, prefix <> Integer.to_string(System.unique_integer([:positive])))
    File.mkdir_p!(tmp)

    try do
      with {:ok, tree, warnings} <- fill.(tmp),
           {:ok, info} <- Tree.verify(tree),
           :ok <- check.(info),
           :ok <- rename(tree, entry) do
        {:ok, info, :installed, warnings}
      end
    after
      File.rm_rf(tmp)
    end
  end

  defp rename(tree, entry) do
    case File.rename(tree, entry) do
      :ok ->
        :ok

      {:error, reason} ->
        {:error, "cannot move #{tree} to #{entry}: #{:file.format_error(reason)}"}
    end
  end
end
