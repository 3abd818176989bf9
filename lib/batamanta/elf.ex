defmodule Batamanta.ELF do
  @moduledoc """
  Reads the shared libraries an ELF file names (`DT_NEEDED`), so a build can say which
  system libraries its NIFs load on the target, for example `libcrypto.so.3` for
  `crypto.so`. Only 64-bit little-endian files are read (x86_64 and aarch64 Linux);
  anything else needs nothing as far as this module knows.
  """

  @sht_dynamic 6
  @dt_needed 1

  # Always present where beam.smp itself runs: the C library and its loader.
  @libc_family ~w(libc.so libm.so libpthread.so libdl.so librt.so libutil.so ld-linux ld-musl)

  @doc "The `DT_NEEDED` entries of the ELF file at `path`, in file order."
  @spec needed(Path.t()) :: [String.t()]
  def needed(path) do
    with {:ok, data} <- File.read(path),
         <<0x7F, "ELF", 2, 1, _::binary>> <- data,
         <<_::binary-size(40), shoff::little-64, _::binary-size(10), shentsize::little-16,
           shnum::little-16, _::binary>> <- data do
      sections = for i <- 0..(shnum - 1)//1, do: section(data, shoff + i * shentsize)

      sections
      |> Enum.filter(&(&1.type == @sht_dynamic))
      |> Enum.flat_map(&needed_in(data, &1, Enum.at(sections, &1.link)))
    else
      _ -> []
    end
  end

  @doc """
  What the NIFs and port programs among `paths` need beyond the C library and what
  `beam` (the emulator, which every binary needs anyway) already needs:
  `[{library, [file basename]}]`.
  """
  @spec extra_needs([Path.t()], Path.t()) :: [{String.t(), [String.t()]}]
  def extra_needs(paths, beam) do
    base = MapSet.new(needed(beam))

    paths
    |> Enum.flat_map(fn path -> Enum.map(needed(path), &{&1, Path.basename(path)}) end)
    |> Enum.reject(fn {lib, _} -> lib in base or libc?(lib) end)
    |> Enum.group_by(&elem(&1, 0), &elem(&1, 1))
    |> Enum.map(fn {lib, files} -> {lib, Enum.uniq(files)} end)
    |> Enum.sort()
  end

  defp libc?(lib), do: Enum.any?(@libc_family, &String.starts_with?(lib, &1))

  defp section(data, offset) do
    <<_::binary-size(offset), _name::little-32, type::little-32, _flags::little-64,
      _addr::little-64, sh_offset::little-64, size::little-64, link::little-32, _::binary>> = data

    %{type: type, offset: sh_offset, size: size, link: link}
  end

  defp needed_in(data, dynamic, strtab) do
    for <<tag::little-signed-64,
          value::little-64 <- binary_part(data, dynamic.offset, dynamic.size)>>,
        tag == @dt_needed do
      strtab_string(data, strtab.offset + value)
    end
  end

  defp strtab_string(data, offset) do
    [string | _] = :binary.split(binary_part(data, offset, byte_size(data) - offset), <<0>>)
    string
  end
end
