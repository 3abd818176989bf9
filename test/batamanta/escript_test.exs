defmodule Batamanta.EscriptTest do
  use ExUnit.Case, async: true

  alias Batamanta.{AppTree, ERTS, Escript, Native, SizeEstimate, SystemLibraries}

  @moduletag :tmp_dir

  test "emu_args splits the %%! line like the escript program" do
    assert Escript.emu_args(~c" -escript main hello_escript  +S 2\t-env A b ") ==
             ~w(-escript main hello_escript +S 2 -env A b)

    assert Escript.emu_args(nil) == []
  end

  test "an escript is read, pruned to the app tree and written uncompressed", %{tmp_dir: dir} do
    build_lib = Path.join(dir, "_build/prod/lib")
    File.mkdir_p!(Path.join(build_lib, "tool/priv/bin"))
    File.write!(Path.join(build_lib, "tool/priv/bin/tool-helper"), "binary")

    files = [
      {~c"hello.app",
       ~s|{application,hello,[{applications,[kernel,stdlib]},{modules,[hello]}]}.|},
      {~c"hello.beam", "beam"},
      {~c"tool.app", ~s|{application,tool,[{applications,[kernel]},{modules,[tool_a]}]}.|},
      {~c"tool_a.beam", "tool beam"},
      {~c"tool-helper", "binary"}
    ]

    source = Path.join(dir, "in")

    :ok =
      :escript.create(String.to_charlist(source), [
        :shebang,
        {:emu_args, ~c"-escript main hello_escript"},
        {:archive, files, []}
      ])

    assert {:ok, escript} = Escript.read(source)
    assert escript.emu_args == ~w(-escript main hello_escript)
    assert Map.keys(escript.specs) |> Enum.sort() == [:hello, :tool]

    {:ok, tree} = AppTree.resolve(:hello, escript.specs, ERTS.host().root)
    assert {pruned, [:tool]} = Escript.prune(escript, tree, build_lib)
    assert Enum.map(pruned.files, &elem(&1, 0)) |> Enum.sort() == [~c"hello.app", ~c"hello.beam"]

    out = Path.join(dir, "out")
    Escript.write(pruned, out, 0)
    assert {:ok, sections} = :escript.extract(String.to_charlist(out), [])
    assert sections[:emu_args] == ~c"-escript main hello_escript"
    {:ok, entries} = :zip.list_dir(sections[:archive])

    for {:zip_file, name, info, _comment, _offset, compressed} <- entries do
      assert compressed == elem(info, 1), "#{name} is compressed in the archive"
    end

    assert :binary.match(File.read!(out), "beam") != :nomatch
  end

  test "the helper reads DT_NEEDED; extra_needs leaves out libc and beam's own" do
    root = ERTS.host().root
    [beam] = Path.wildcard(Path.join(root, "erts-*/bin/beam.smp"))
    boot = Path.join(root, "bin/no_dot_erlang.boot")
    crypto = Path.wildcard(Path.join(root, "lib/crypto-*/priv/lib/crypto.so"))
    native = Native.start()

    assert {:ok, %{needed: needed}} =
             Native.request(native, :libc_requirement, %{paths: [beam, boot | crypto]})

    Native.close(native)
    assert "libc.so.6" in needed[beam]
    assert Map.get(needed, boot, []) == []

    assert [crypto] = crypto, "crypto.so is missing: scripts/install-deps installs erlang-crypto"

    assert [{"libcrypto.so.3", ["crypto.so"]}] =
             SystemLibraries.extra_needs(needed, [crypto], beam)
  end

  test "the size estimate grows with the payload and shrinks with the level" do
    assert SizeEstimate.estimate_size(10_000_000, 19, 1_000_000) <
             SizeEstimate.estimate_size(10_000_000, 3, 1_000_000)

    assert SizeEstimate.ratio(3) == 0.48
    assert SizeEstimate.ratio(6) > SizeEstimate.ratio(9)
    assert SizeEstimate.estimate_size(0, 9, 100) == 100 + 4096 + 96
  end
end
