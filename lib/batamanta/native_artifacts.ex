defmodule Batamanta.NativeArtifacts do
  @moduledoc """
  The prebuilt Swift products a released batamanta carries, so that its users need no
  Swift toolchain.

  Layout, under batamanta's root (written by `scripts/package`, never committed):

      priv/native/MANIFEST                          sha256 of every file below
      priv/native/<host triple>/batamanta-native    the build helper for that build host
      priv/native/<host triple>/batamanta-dispenser...
                                                    every dispenser a build on that host puts
                                                    in priv/bin/, for every target arch

  A host's directory is exactly what `mix compile` from source leaves in `priv/bin/` on
  such a host, under the same names, so `Mix.Tasks.Compile.BatamantaNative` installs it
  by copying, and any dispenser the source build gains (another arch, another mode)
  joins the package without a change here. `MANIFEST` is in `sha256sum` format
  (`<hex>  <path relative to priv/native>`), so `sha256sum -c MANIFEST` checks it too.
  """

  @dir "priv/native"
  @manifest "MANIFEST"

  @type entry :: %{name: String.t(), path: Path.t(), sha256: String.t()}

  @doc "The artifacts' directory under `root`."
  @spec dir(Path.t()) :: Path.t()
  def dir(root), do: Path.join(root, @dir)

  @doc "The manifest's path under `root`."
  @spec manifest_path(Path.t()) :: Path.t()
  def manifest_path(root), do: Path.join(dir(root), @manifest)

  @doc """
  This machine's host triple as the artifacts name it (`x86_64-linux-gnu`,
  `aarch64-linux-musl`, `aarch64-macos`), from the running VM's system architecture.
  """
  @spec host_triple(charlist() | String.t()) :: String.t()
  def host_triple(architecture \\ :erlang.system_info(:system_architecture)) do
    architecture = to_string(architecture)
    [arch | _] = String.split(architecture, "-")
    arch = Map.get(%{"amd64" => "x86_64", "arm64" => "aarch64"}, arch, arch)

    cond do
      architecture =~ "linux" ->
        Batamanta.Target.triple(:linux, arch, if(architecture =~ "musl", do: :musl, else: :gnu))

      architecture =~ "darwin" ->
        Batamanta.Target.triple(:macos, arch, nil)

      true ->
        architecture
    end
  end

  @doc """
  The manifest's entries for build host `triple`, or the hosts the package has
  artifacts for (`[]` in a source checkout, which has no manifest).
  """
  @spec for_host(Path.t(), String.t()) :: {:ok, [entry()]} | {:error, [String.t()]}
  def for_host(root, triple) do
    entries = read_manifest(root)

    case Enum.filter(entries, &(Path.dirname(&1.relative) == triple)) do
      [] ->
        {:error, entries |> Enum.map(&Path.dirname(&1.relative)) |> Enum.uniq()}

      mine ->
        {:ok,
         Enum.map(mine, &%{name: Path.basename(&1.relative), path: &1.path, sha256: &1.sha256})}
    end
  end

  defp read_manifest(root) do
    case File.read(manifest_path(root)) do
      {:ok, text} ->
        for line <- String.split(text, "\n", trim: true) do
          [sha256, relative] = String.split(line, "  ", parts: 2)
          %{relative: relative, path: Path.join(dir(root), relative), sha256: sha256}
        end

      {:error, :enoent} ->
        []
    end
  end

  @doc """
  Checks every entry's file against its recorded checksum; the error names the first
  file that is missing or differs.
  """
  @spec verify([entry()]) :: :ok | {:error, String.t()}
  def verify(entries) do
    Enum.find_value(entries, :ok, fn %{path: path, sha256: expected} ->
      case sha256(path) do
        {:ok, ^expected} ->
          nil

        {:ok, actual} ->
          {:error,
           "prebuilt artifact #{path} does not match its checksum in MANIFEST " <>
             "(expected sha256 #{expected}, found #{actual})"}

        {:error, reason} ->
          {:error,
           "prebuilt artifact #{path}, listed in MANIFEST, cannot be read: " <>
             to_string(:file.format_error(reason))}
      end
    end)
  end

  @doc """
  Puts `executables` into `root`'s artifacts as build host `triple`'s, under their own
  names, then writes the manifest over every host's files.
  """
  @spec write!(Path.t(), [Path.t()], String.t()) :: :ok
  def write!(root, executables, triple) do
    host_dir = Path.join(dir(root), triple)
    File.rm_rf!(host_dir)
    File.mkdir_p!(host_dir)

    for source <- executables do
      destination = Path.join(host_dir, Path.basename(source))
      File.cp!(source, destination)
      File.chmod!(destination, 0o755)
    end

    lines =
      for path <- Enum.sort(Path.wildcard(Path.join(dir(root), "*/*"))), File.regular?(path) do
        {:ok, sha256} = sha256(path)
        "#{sha256}  #{Path.relative_to(path, dir(root))}\n"
      end

    File.write!(manifest_path(root), lines)
  end

  defp sha256(path) do
    with {:ok, data} <- File.read(path) do
      {:ok, :crypto.hash(:sha256, data) |> Base.encode16(case: :lower)}
    end
  end
end
