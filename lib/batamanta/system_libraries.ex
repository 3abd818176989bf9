defmodule Batamanta.SystemLibraries do
  @moduledoc """
  Which system libraries a build's NIFs and port programs load on the target, for
  example `libcrypto.so.3` for `crypto.so`. The `DT_NEEDED` names come from the helper's
  `:libc_requirement` answer, which reads every ELF file of the runtime anyway.
  """

  # Always present where beam.smp itself runs: the C library and its loader.
  @libc_family ~w(libc.so libm.so libpthread.so libdl.so librt.so libutil.so ld-linux ld-musl)

  @doc """
  What the NIFs and port programs among `paths` need beyond the C library and what
  `beam` (the emulator, which every binary needs anyway) already needs, given `needed`
  (`:libc_requirement`'s `DT_NEEDED` names per file): `[{library, [file basename]}]`.
  """
  @spec extra_needs(%{Path.t() => [String.t()]}, [Path.t()], Path.t()) ::
          [{String.t(), [String.t()]}]
  def extra_needs(needed, paths, beam) do
    base = MapSet.new(Map.get(needed, beam, []))

    paths
    |> Enum.flat_map(fn path ->
      Enum.map(Map.get(needed, path, []), &{&1, Path.basename(path)})
    end)
    |> Enum.reject(fn {lib, _} -> lib in base or libc?(lib) end)
    |> Enum.group_by(&elem(&1, 0), &elem(&1, 1))
    |> Enum.map(fn {lib, files} -> {lib, Enum.uniq(files)} end)
    |> Enum.sort()
  end

  defp libc?(lib), do: Enum.any?(@libc_family, &String.starts_with?(lib, &1))
end
