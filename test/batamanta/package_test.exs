defmodule Batamanta.PackageTest do
  # package/0 in mix.exs decides what `mix hex.build` ships: everything a user's
  # `mix compile` needs to build batamanta, and nothing the build produces.
  use ExUnit.Case, async: true

  @root Path.expand("../..", __DIR__)

  defp files, do: Mix.Project.config()[:package][:files]

  defp expanded, do: Batamanta.PackageTree.expand(@root, files())

  # priv/native/ is the one listed path a checkout lacks: scripts/package writes it.
  test "every listed path exists, but the prebuilt artifacts" do
    for path <- files() -- ["priv/native"] do
      assert File.exists?(Path.join(@root, path)), "#{path} is missing"
    end

    assert "priv/native" in files()
  end

  test "it has what a Hex release needs" do
    for needed <- ~w(lib Package.swift Sources priv/banner.png README.md LICENSE mix.exs) do
      assert needed in files(), "#{needed} is not in package/0 files"
    end
  end

  test "every directory Package.swift names is shipped" do
    manifest = File.read!(Path.join(@root, "Package.swift"))
    paths = Regex.scan(~r/path: "([^"\\]+)"/, manifest, capture: :all_but_first)
    dispensers = Regex.scan(~r/dispenser\("([^"]+)"\)/, manifest, capture: :all_but_first)
    tests = Regex.scan(~r/testTarget\(name: "([^"]+)"/, manifest, capture: :all_but_first)
    shipped = expanded()

    dirs =
      List.flatten(paths) ++
        Enum.map(List.flatten(dispensers), &"Sources/#{&1}") ++
        Enum.map(List.flatten(tests), &"Tests/#{&1}")

    assert Enum.any?(dirs, &String.starts_with?(&1, "Sources/DispenserTUI"))

    for dir <- dirs do
      assert Enum.any?(shipped, &String.starts_with?(&1, dir <> "/")), "#{dir} is not shipped"
    end
  end

  # Each dispenser compiles the shared core and format sources through symlinks
  # (Sources/Dispenser/Core, Sources/DispenserCore/Format): a link leaving the package
  # would break a Hex install.
  test "every symlink under Sources points at a shipped directory" do
    links =
      Path.wildcard(Path.join(@root, "Sources/**"), match_dot: true)
      |> Enum.filter(&match?({:ok, %File.Stat{type: :symlink}}, File.lstat(&1)))

    # The wildcard also walks through linked directories; a link seen that way is the
    # same link seen from elsewhere.
    links =
      Enum.reject(links, fn link -> Enum.any?(links, &String.starts_with?(link, &1 <> "/")) end)

    assert length(links) >= 2

    for link <- links do
      target = Path.expand(File.read_link!(link), Path.dirname(link))
      target = Path.relative_to(target, @root)

      assert Enum.any?(expanded(), &String.starts_with?(&1, target <> "/")),
             "#{link} points outside the package"
    end
  end

  test "nothing build-only or ignored by git is included" do
    shipped = expanded()

    refute Enum.any?(
             shipped,
             &String.starts_with?(&1, ["priv/bin", "priv/native", "_build", ".build", "deps"])
           )

    {ignored, _status} =
      System.cmd("git", ["check-ignore", "--no-index" | shipped],
        cd: @root,
        stderr_to_stdout: true
      )

    assert ignored == ""
  end
end
