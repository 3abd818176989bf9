defmodule Batamanta.BootScriptTest do
  use ExUnit.Case, async: true

  alias Batamanta.BootScript

  @cli {:apply, {:elixir, :start_cli, []}}

  defp start(app), do: {:apply, {:application, :start_boot, [app, :permanent]}}

  defp script(instructions), do: {:script, {~c"demo", ~c"0.1.0"}, instructions}

  test "start_cli goes right after logger when logger starts after elixir" do
    instructions = [
      {:progress, :started},
      start(:kernel),
      start(:stdlib),
      start(:elixir),
      start(:sasl),
      start(:logger),
      start(:demo),
      {:progress, :started}
    ]

    assert {:ok, {:script, _, patched}} = BootScript.patch(script(instructions))

    assert patched ==
             [
               {:progress, :started},
               start(:kernel),
               start(:stdlib),
               start(:elixir),
               start(:sasl),
               start(:logger),
               @cli,
               start(:demo),
               {:progress, :started}
             ]
  end

  test "start_cli goes right after elixir when logger starts first or not at all" do
    assert {:ok, {:script, _, [_, _, @cli, _]}} =
             BootScript.patch(script([start(:logger), start(:elixir), start(:demo)]))

    assert {:ok, {:script, _, [_, @cli, _]}} =
             BootScript.patch(script([start(:elixir), start(:demo)]))
  end

  test "patching twice is harmless" do
    {:ok, once} = BootScript.patch(script([start(:elixir), start(:demo)]))
    assert {:ok, ^once} = BootScript.patch(once)
  end

  test "a script that never starts elixir is refused" do
    assert {:error, message} = BootScript.patch(script([start(:kernel)]))
    assert message =~ ":elixir"
    assert {:error, _} = BootScript.patch(:nonsense)
  end

  @tag :tmp_dir
  test "write/1 turns start.script into batamanta.boot", %{tmp_dir: dir} do
    term = script([start(:kernel), start(:elixir), start(:logger), start(:demo)])
    File.write!(Path.join(dir, "start.script"), :io_lib.format(~c"~p.~n", [term]))

    assert :ok = BootScript.write(dir)
    boot = dir |> Path.join("batamanta.boot") |> File.read!() |> :erlang.binary_to_term()
    assert {:script, _, [_, _, _, @cli, _]} = boot
  end

  @tag :tmp_dir
  test "write/1 names the file it cannot read", %{tmp_dir: dir} do
    assert {:error, message} = BootScript.write(dir)
    assert message =~ Path.join(dir, "start.script")
  end
end
