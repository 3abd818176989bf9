defmodule Batamanta.UnusedAppsTest do
  # Releases laid out as `mix release` lays them out, with BEAM files compiled from
  # one-line Erlang modules, so each test says exactly what the tree's code calls.
  use ExUnit.Case, async: true

  alias Batamanta.{BootScript, Staged, UnusedApps}

  @moduletag :tmp_dir

  # name => {applications, modules => the calls of the module's f/0}
  @base %{
    kernel: {[], %{kernel_mod: "ok"}},
    stdlib: {[:kernel], %{stdlib_mod: "ok"}},
    compiler: {[:kernel, :stdlib], %{compile: "ok", v3_core: "ok"}},
    elixir: {[:kernel, :stdlib, :compiler], %{"Elixir.Code": "compile:forms([])"}},
    logger: {[:kernel, :stdlib, :elixir], %{"Elixir.Logger": "ok"}},
    # Elixir's own modules name IEx and the sasl atom; neither counts.
    sasl: {[:kernel, :stdlib], %{sasl: "ok", release_handler: "ok"}},
    iex: {[:kernel, :stdlib, :elixir], %{"Elixir.IEx": "ok", "Elixir.IEx.Info": "ok"}}
  }

  defp release(dir, app_calls, opts \\ []) do
    extra = Keyword.get(opts, :extra, %{})
    app = {[:kernel, :stdlib, :elixir, :logger] ++ Keyword.get(opts, :needs, []), app_calls}
    apps = @base |> Map.merge(extra) |> Map.put(:demo, app)

    for {name, {needs, modules}} <- apps do
      ebin = Path.join([dir, "lib", "#{name}-1.0", "ebin"])
      File.mkdir_p!(ebin)
      spec = {:application, name, applications: needs, modules: Map.keys(modules)}
      File.write!(Path.join(ebin, "#{name}.app"), :io_lib.format(~c"~p.~n", [spec]))
      for {module, body} <- modules, do: write_beam(ebin, module, body)
    end

    vsn_dir = Path.join([dir, "releases", "0.1.0"])
    File.mkdir_p!(Path.join(vsn_dir, "consolidated"))
    rel_apps = for name <- Map.keys(apps), do: {name, ~c"1.0", :permanent}
    rel = {:release, {~c"demo", ~c"0.1.0"}, {:erts, ~c"13.1.5"}, rel_apps}
    File.write!(Path.join(vsn_dir, "demo.rel"), :io_lib.format(~c"~p.~n", [rel]))
    File.write!(Path.join(vsn_dir, "sys.config"), Keyword.get(opts, :sys_config, "[]."))
    write_beam(Path.join(vsn_dir, "consolidated"), :"Elixir.IEx.Info", "ok")
    write_beam(Path.join(vsn_dir, "consolidated"), :"Elixir.Inspect", "'Elixir.IEx':x()")

    %Staged{format: :release, name: "demo", path: dir, version: "0.1.0", erts_version: "13.1.5"}
  end

  defp write_beam(dir, module, body) do
    source = "-module('#{module}').\n-export([f/0]).\nf() -> #{body}.\n"
    {:ok, tokens, _} = :erl_scan.string(String.to_charlist(source))

    forms =
      tokens
      |> Enum.chunk_by(&match?({:dot, _}, &1))
      |> Enum.chunk_every(2)
      |> Enum.map(fn chunk ->
        {:ok, form} = :erl_parse.parse_form(Enum.concat(chunk))
        form
      end)

    {:ok, ^module, beam} = :compile.forms(forms, [:no_line_info])
    File.write!(Path.join(dir, "#{module}.beam"), beam)
  end

  defp decide(release, opts \\ []) do
    UnusedApps.decide(
      release,
      :demo,
      Keyword.get(opts, :explicit, []),
      Keyword.get(opts, :mode, :cli)
    )
  end

  test "a CLI that names neither IEx, sasl nor the compiler leaves them out", %{tmp_dir: dir} do
    release = release(dir, %{"Elixir.Demo": "io:format(\"hi\")"})
    unused = decide(release)

    assert unused.dropped == [:iex, :sasl]
    assert unused.spec_only == [:compiler]
    assert :"Elixir.IEx" in unused.modules and :compile in unused.modules
    assert Path.join(dir, "lib/iex-1.0") in unused.files
    assert Path.join(dir, "lib/compiler-1.0/ebin/compile.beam") in unused.files
    refute Path.join(dir, "lib/compiler-1.0/ebin/compiler.app") in unused.files
    # IEx's own protocol goes; Inspect, consolidated with IEx's impls, stays.
    assert Path.join(dir, "releases/0.1.0/consolidated/Elixir.IEx.Info.beam") in unused.files
    refute Path.join(dir, "releases/0.1.0/consolidated/Elixir.Inspect.beam") in unused.files
    assert Path.join(dir, "bin") in unused.files
    assert Path.join(dir, "releases/0.1.0/start_clean.boot") in unused.files
    assert Path.join(dir, "erts-13.1.5/bin/erl") in unused.files
    refute Enum.any?(unused.files, &(Path.basename(&1) in ["vm.args", "sys.config", "env.sh"]))
    assert decide(release, mode: :tui) == unused
  end

  test "a module of the tree that names IEx keeps it", %{tmp_dir: dir} do
    unused = decide(release(dir, %{"Elixir.Demo": "'Elixir.IEx':started()"}))
    assert unused.dropped == [:sasl]
    refute Enum.any?(unused.files, &(Path.relative_to(&1, dir) =~ "IEx"))
  end

  test "a dependency that names a sasl module keeps sasl", %{tmp_dir: dir} do
    dep = %{dep: {[:kernel], %{dep_mod: "erlang:apply(release_handler, which_releases, [])"}}}
    unused = decide(release(dir, %{"Elixir.Demo": "ok"}, needs: [:dep], extra: dep))
    assert unused.dropped == [:iex]
  end

  test "an application the release config names is kept", %{tmp_dir: dir} do
    unused = decide(release(dir, %{"Elixir.Demo": "ok"}), explicit: [:iex])
    assert unused.dropped == [:sasl]
  end

  for {what, call} <- [
        {"Code.eval_string/1", "'Elixir.Code':eval_string(<<\"1\">>)"},
        {"Module.create/3", "'Elixir.Module':create(m, [], [])"},
        {"EEx at run time", "'Elixir.EEx':eval_string(<<\"<%= 1 %>\">>)"},
        {"the compiler itself", "compile:forms([])"}
      ] do
    test "code that compiles at run time (#{what}) keeps the compiler", %{tmp_dir: dir} do
      unused = decide(release(dir, %{"Elixir.Demo": unquote(call)}))
      assert unused.spec_only == []
      refute Enum.any?(unused.files, &(Path.relative_to(&1, dir) =~ "compiler"))
    end
  end

  test "an application besides Elixir that needs :compiler keeps it", %{tmp_dir: dir} do
    unused = decide(release(dir, %{"Elixir.Demo": "ok"}, needs: [:compiler]))
    assert unused.spec_only == []
  end

  test "a runtime config, evaluated at boot, keeps the compiler", %{tmp_dir: dir} do
    config = "[{elixir, [{config_provider_init, x}]}]. %% RUNTIME_CONFIG=true"
    unused = decide(release(dir, %{"Elixir.Demo": "ok"}, sys_config: config))
    assert unused.spec_only == []
  end

  test "a daemon keeps everything: its remote and rpc run the release scripts", %{tmp_dir: dir} do
    assert decide(release(dir, %{"Elixir.Demo": "ok"}), mode: :daemon) == %UnusedApps{}
  end

  test "the boot script forgets the dropped applications and the modules left out" do
    script =
      {:script, {~c"demo", ~c"0.1.0"},
       [
         {:path, [~c"$ROOT/lib/compiler-8.2.3/ebin"]},
         {:primLoad, [:compile, :lists]},
         {:path, [~c"$RELEASE_LIB/iex-1.14.0/ebin", ~c"$RELEASE_LIB/demo-0.1.0/ebin"]},
         {:apply, {:application, :load, [{:application, :iex, []}]}},
         {:apply, {:application, :load, [{:application, :sasl, []}]}},
         {:apply, {:application, :start_boot, [:sasl, :permanent]}},
         {:apply, {:application, :start_boot, [:demo, :permanent]}}
       ]}

    unused = %UnusedApps{dropped: [:iex, :sasl], spec_only: [:compiler], modules: [:compile]}

    assert BootScript.forget(script, unused) ==
             {:script, {~c"demo", ~c"0.1.0"},
              [
                {:path, [~c"$ROOT/lib/compiler-8.2.3/ebin"]},
                {:primLoad, [:lists]},
                {:path, [~c"$RELEASE_LIB/demo-0.1.0/ebin"]},
                {:apply, {:application, :start_boot, [:demo, :permanent]}}
              ]}
  end
end
