defmodule Batamanta.PackageTree do
  @moduledoc """
  The tree `mix hex.build` publishes: the paths `package/0`'s `files:` lists in
  `mix.exs`, a directory bringing every file under it and a symlink kept as a link (so
  nothing is listed through one), the way Hex expands them.

  `scripts/package DIR` writes it with `write!/2`, after which `mix hex.publish` run in
  `DIR` publishes exactly that tree.
  """

  @doc "The files (and symlinks) under `root` that `files` publishes, relative to `root`."
  @spec expand(Path.t(), [Path.t()]) :: [Path.t()]
  def expand(root, files) do
    files
    |> Enum.flat_map(fn path ->
      full = Path.join(root, path)

      cond do
        symlink?(full) -> [full]
        File.dir?(full) -> Path.wildcard(Path.join(full, "**"), match_dot: true)
        File.exists?(full) -> [full]
        true -> []
      end
    end)
    |> Enum.map(&Path.relative_to(&1, root))
    |> Enum.reject(&beyond_symlink?(root, &1))
    |> Enum.reject(&(File.dir?(Path.join(root, &1)) and not symlink?(Path.join(root, &1))))
    |> Enum.uniq()
  end

  @doc """
  Copies the tree `files` publishes from `root` into `destination`, which must not
  exist yet or be empty.
  """
  @spec write!(Path.t(), [Path.t()], Path.t()) :: :ok
  def write!(root, files, destination) do
    File.mkdir_p!(destination)

    if File.ls!(destination) != [] do
      raise ArgumentError, "#{destination} is not empty"
    end

    for relative <- expand(root, files) do
      source = Path.join(root, relative)
      target = Path.join(destination, relative)
      File.mkdir_p!(Path.dirname(target))

      if symlink?(source) do
        File.ln_s!(File.read_link!(source), target)
      else
        File.cp!(source, target)
        File.chmod!(target, File.stat!(source).mode)
      end
    end

    :ok
  end

  defp symlink?(path), do: match?({:ok, %File.Stat{type: :symlink}}, File.lstat(path))

  defp beyond_symlink?(root, relative) do
    relative
    |> Path.split()
    |> Enum.drop(-1)
    |> Enum.scan(&Path.join(&2, &1))
    |> Enum.any?(&symlink?(Path.join(root, &1)))
  end
end
