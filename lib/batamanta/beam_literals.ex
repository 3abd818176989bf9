defmodule Batamanta.BeamLiterals do
  @moduledoc """
  Rewrites the literal table of BEAM files with deflate's stored blocks.

  The compiler zlib-compresses each module's literal table (`LitT`) on its own, which
  leaves zstd nothing to find across files. OTP 25's loader only takes a `LitT` it can
  inflate, so the table stays a zlib stream, made of stored (uncompressed) blocks: the
  loader reads the same terms and zstd sees the literals themselves. Measured on
  examples/hello_cli's release: 62 KB less at zstd 9, 79 KB at 19.
  """

  @doc "Rewrites every `.beam` under `dir`; returns how many it rewrote."
  @spec store_uncompressed(Path.t()) :: non_neg_integer()
  def store_uncompressed(dir) do
    dir
    |> Path.join("**/*.beam")
    |> Path.wildcard()
    |> Enum.count(fn path ->
      case rewrite(File.read!(path)) do
        {:ok, beam} -> File.write!(path, beam) == :ok
        :unchanged -> false
      end
    end)
  end

  @doc "The BEAM binary with its literal table in stored blocks, or `:unchanged`."
  @spec rewrite(binary()) :: {:ok, binary()} | :unchanged
  def rewrite(beam) do
    with {:ok, _module, chunks} <- :beam_lib.all_chunks(beam),
         {~c"LitT", <<size::32, deflated::binary>>} <- List.keyfind(chunks, ~c"LitT", 0),
         literals when byte_size(literals) == size <- :zlib.uncompress(deflated) do
      chunk = {~c"LitT", <<size::32, stored(literals)::binary>>}
      {:ok, beam} = :beam_lib.build_module(List.keyreplace(chunks, ~c"LitT", 0, chunk))
      {:ok, beam}
    else
      _ -> :unchanged
    end
  end

  defp stored(bytes) do
    z = :zlib.open()

    try do
      :ok = :zlib.deflateInit(z, :none)
      stored = IO.iodata_to_binary(:zlib.deflate(z, bytes, :finish))
      :zlib.deflateEnd(z)
      stored
    after
      :zlib.close(z)
    end
  end
end
