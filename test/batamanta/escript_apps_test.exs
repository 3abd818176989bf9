defmodule Batamanta.EscriptAppsTest do
  use ExUnit.Case, async: true

  alias Batamanta.{AppTree, Escript, EscriptApps}

  @moduletag :tmp_dir

  defp escript do
    %Escript{
      emu_args: [],
      files: [
        {~c"dep.app", ""},
        {~c"Elixir.Dep.beam", ""},
        {~c"data.txt", ""},
        {~c"main.app", ""}
      ],
      specs: %{dep: [vsn: ~c"1.0.0", modules: [Dep]], main: [vsn: ~c"0.1.0", modules: []]},
      shebang: "",
      comment: ""
    }
  end

  defp lib(tmp) do
    for app <- ["dep", "main"], do: File.mkdir_p!(Path.join([tmp, app, "ebin"]))
    File.mkdir_p!(Path.join(tmp, "dep/priv"))
    File.write!(Path.join(tmp, "dep/priv/data.txt"), "data")
    tmp
  end

  test "an app with priv/ leaves the archive and is copied whole", %{tmp_dir: tmp} do
    build_lib = lib(Path.join(tmp, "lib"))
    tree = %AppTree{embedded: [:dep, :main]}

    assert {:ok, {pruned, [%EscriptApps{name: :dep, vsn: "1.0.0"}] = apps}} =
             EscriptApps.split(escript(), tree, build_lib)

    assert Enum.map(pruned.files, &elem(&1, 0)) == [~c"main.app"]
    root = Path.join(tmp, "root")
    assert EscriptApps.copy(apps, root) == ["lib/dep-1.0.0/ebin"]
    assert File.read!(Path.join(root, "lib/dep-1.0.0/priv/data.txt")) == "data"
  end

  test "a priv/ holding a symlink is refused, naming the app", %{tmp_dir: tmp} do
    build_lib = lib(Path.join(tmp, "lib"))
    File.ln_s!("/etc/hostname", Path.join(build_lib, "dep/priv/link"))
    tree = %AppTree{embedded: [:dep, :main]}

    assert {:error, message} = EscriptApps.split(escript(), tree, build_lib)
    assert message =~ "dep's priv/: priv/link is a symlink"
    assert message =~ "format: :release"
  end
end
