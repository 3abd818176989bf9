defmodule Batamanta.MinimalERTSTest do
  use ExUnit.Case, async: true

  alias Batamanta.{AppTree, ERTS, MinimalERTS}

  @moduletag :tmp_dir

  setup %{tmp_dir: tmp_dir} do
    erts = ERTS.host()

    specs = %{
      hello: [applications: [:kernel, :stdlib, :elixir, :crypto]],
      elixir: [applications: [:kernel, :stdlib, :compiler]]
    }

    {:ok, tree} = AppTree.resolve(:hello, specs, erts.root)
    {:ok, runtime} = MinimalERTS.stage(erts, tree, Path.join(tmp_dir, "root"))

    files =
      runtime.path
      |> Path.join("**")
      |> Path.wildcard()
      |> Enum.map(&Path.relative_to(&1, runtime.path))

    %{erts: erts, runtime: runtime, files: files}
  end

  test "it holds the boot executables and the boot file", %{runtime: runtime, files: files} do
    bin = "erts-#{runtime.erts_version}/bin"

    assert Enum.sort(for f <- files, Path.dirname(f) == bin, do: Path.basename(f)) ==
             ~w(beam.smp erl_child_setup erlexec inet_gethost)

    assert "bin/no_dot_erlang.boot" in files
    assert File.stat!(Path.join([runtime.path, bin, "beam.smp"])).mode |> Bitwise.band(0o111) != 0
  end

  test "no development tools and no Elixir", %{files: files} do
    for tool <- ~w(erlc dialyzer typer ct_run run_erl to_erl erl escript epmd) do
      refute Enum.any?(files, &(Path.basename(&1) == tool)), "#{tool} was staged"
    end

    refute Enum.any?(files, &String.starts_with?(&1, "lib/elixir"))
    refute Enum.any?(files, &String.starts_with?(&1, "lib/logger"))
  end

  test "applications keep only ebin and priv", %{files: files} do
    apps = for file <- files, ["lib", app] <- [Path.split(file)], do: hd(String.split(app, "-"))
    assert Enum.sort(apps) == ~w(compiler crypto kernel stdlib)

    for file <- files,
        [_lib, _app, sub | _] <- [Path.split(file)],
        String.starts_with?(file, "lib/") do
      assert sub in ["ebin", "priv"], "#{file} was staged"
    end

    assert Enum.any?(files, &String.ends_with?(&1, "priv/lib/crypto.so"))
    refute Enum.any?(files, &String.ends_with?(&1, "otp_test_engine.so"))
  end

  test "the compiler is its .app alone when only Elixir asks for it", %{files: files} do
    compiler =
      Enum.filter(
        files,
        &(String.starts_with?(&1, "lib/compiler-") and String.contains?(&1, "/ebin/"))
      )

    assert [app] = compiler
    assert String.ends_with?(app, "ebin/compiler.app")
  end

  test "BEAM files are stripped and not compressed", %{runtime: runtime, erts: erts} do
    [lists] = Path.wildcard(Path.join(runtime.path, "lib/stdlib-*/ebin/lists.beam"))
    [original] = Path.wildcard(Path.join(erts.root, "lib/stdlib-*/ebin/lists.beam"))
    assert <<"FOR1", _::binary>> = File.read!(lists)
    assert File.stat!(lists).size < File.stat!(original).size
    assert {:ok, {:lists, _}} = :beam_lib.chunks(String.to_charlist(lists), [:attributes])
  end
end
