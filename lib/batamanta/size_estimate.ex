defmodule Batamanta.SizeEstimate do
  @moduledoc """
  Predicts the size of the binary before the payload is compressed, which at level 19
  takes seconds.

  The ratios are compressed/uncompressed sizes of whole payload tar streams (stripped
  BEAM files, an uncompressed escript archive, erts executables) measured with the
  helper's `:pack` on examples/escript and examples/hello_cli; levels in between are
  interpolated. The estimate is within about 5% for such payloads.
  """

  # {zstd level, compressed / uncompressed}: examples/escript gave 0.477 (3), 0.436 (9)
  # and 0.386 (19); the hello_cli release 0.46 (3).
  @ratios [{1, 0.50}, {3, 0.48}, {9, 0.44}, {19, 0.39}]

  @doc """
  The estimated size of the binary: `uncompressed` payload bytes at zstd `level`, plus
  the dispenser and the trailer.
  """
  @spec estimate_size(non_neg_integer(), 1..19, non_neg_integer(), non_neg_integer()) ::
          non_neg_integer()
  def estimate_size(uncompressed, level, dispenser_bytes, metadata_bytes \\ 4096) do
    round(uncompressed * ratio(level)) + dispenser_bytes + metadata_bytes + 96
  end

  @doc "The compressed/uncompressed ratio expected at `level`."
  @spec ratio(1..19) :: float()
  def ratio(level) do
    {{l1, r1}, {l2, r2}} =
      @ratios
      |> Enum.chunk_every(2, 1, :discard)
      |> Enum.map(fn [a, b] -> {a, b} end)
      |> Enum.find(fn {{l1, _}, {l2, _}} -> level >= l1 and level <= l2 end)

    r1 + (r2 - r1) * (level - l1) / (l2 - l1)
  end
end
