defmodule Batamanta.BeamLiteralsTest do
  use ExUnit.Case, async: true

  alias Batamanta.BeamLiterals

  @moduletag :tmp_dir

  defp literal_table(beam) do
    {:ok, _, chunks} = :beam_lib.all_chunks(beam)
    {_, <<size::32, zlib::binary>>} = List.keyfind(chunks, ~c"LitT", 0)
    {size, zlib}
  end

  test "the rewritten module loads and returns the same literals", %{tmp_dir: dir} do
    [{module, beam}] =
      Code.compile_string("""
      defmodule BeamLiteralsFixture do
        def data, do: %{words: List.duplicate("literal", 50), tuple: {:a, 1.5, "b"}}
      end
      """)

    expected = module.data()
    assert {:ok, rewritten} = BeamLiterals.rewrite(beam)
    {size, stored} = literal_table(rewritten)
    # Stored blocks: the terms themselves, readable by zstd, plus a few bytes of framing.
    assert byte_size(stored) > size and byte_size(stored) < size + 32
    assert :zlib.uncompress(stored) == :zlib.uncompress(elem(literal_table(beam), 1))

    :code.purge(module)
    :code.delete(module)
    assert {:module, ^module} = :code.load_binary(module, ~c"fixture", rewritten)
    assert module.data() == expected

    path = Path.join(dir, "lib/app/ebin/BeamLiteralsFixture.beam")
    File.mkdir_p!(Path.dirname(path))
    File.write!(path, beam)
    assert BeamLiterals.store_uncompressed(dir) == 1
    assert File.read!(path) == rewritten
  end

  test "a module without literals or a file that is no BEAM stays as it is" do
    forms = [{:attribute, 1, :module, :beam_literals_empty}, {:attribute, 1, :export, [f: 0]}]
    function = {:function, 1, :f, 0, [{:clause, 1, [], [], [{:integer, 1, 1}]}]}
    {:ok, _, beam} = :compile.forms(forms ++ [function])
    assert BeamLiterals.rewrite(beam) == :unchanged
    assert BeamLiterals.rewrite("not a beam") == :unchanged
  end
end
