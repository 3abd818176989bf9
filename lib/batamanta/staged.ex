defmodule Batamanta.Staged do
  @moduledoc """
  The tree the pipeline packs: a directory at `path` that runs from wherever the
  dispenser extracts it, holding `erts-<erts_version>/` and `lib/`.

    * `format: :release` - a `mix release` made by `Batamanta.Release`, trimmed and
      given its boot script in place;
    * `format: :escript` - a minimal runtime from `Batamanta.MinimalERTS` with the
      escript at `script` (relative to `path`), started with its `%%!` arguments
      `emu_args` and the boot file `bin/<boot>.boot`, and `code_paths`, the `ebin`
      directories (relative) of the applications shipped beside the escript
      (`Batamanta.EscriptApps`); these are `nil` (`[]`) for a release.

  `name` and `version` are the release's (for an escript, the app's).
  """

  defstruct [
    :format,
    :name,
    :path,
    :version,
    :erts_version,
    :script,
    :emu_args,
    :boot,
    code_paths: []
  ]

  @type t :: %__MODULE__{
          format: :release | :escript,
          name: String.t(),
          path: Path.t(),
          version: String.t(),
          erts_version: String.t(),
          script: Path.t() | nil,
          emu_args: [String.t()] | nil,
          boot: String.t() | nil,
          code_paths: [Path.t()]
        }

  @doc "The directory of the tree's runtime, `erts-<vsn>/`."
  @spec erts_dir(t()) :: Path.t()
  def erts_dir(%__MODULE__{path: path, erts_version: vsn}), do: Path.join(path, "erts-#{vsn}")

  @doc "Total size in bytes of the regular files under `path`, a tree or any file."
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
  @spec elf_files(t(), [Path.t()]) :: [Path.t()]
  def elf_files(%__MODULE__{path: path}, nifs) do
    path
    |> Path.join("erts-*/bin/*")
    |> Path.wildcard()
    |> Enum.filter(&elf?/1)
    |> Enum.concat(nifs)
    |> Enum.sort()
  end

  @doc "The ELF files in the applications' `priv/`: NIFs and port programs."
  @spec nif_files(t()) :: [Path.t()]
  def nif_files(%__MODULE__{path: path}) do
    path |> Path.join("lib/*/priv/**/*") |> Path.wildcard() |> Enum.filter(&elf?/1) |> Enum.sort()
  end

  defp elf?(path) do
    File.regular?(path) and
      match?({:ok, <<0x7F, "ELF">>}, File.open(path, [:read, :binary], &IO.binread(&1, 4)))
  end
end
