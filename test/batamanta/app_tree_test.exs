defmodule Batamanta.AppTreeTest do
  use ExUnit.Case, async: true

  alias Batamanta.{AppTree, ERTS}

  @root ERTS.host().root

  # What an Elixir escript embeds: the project, Elixir, Logger and a dependency.
  defp specs(project_apps, extra \\ %{}) do
    Map.merge(
      %{
        hello: [applications: project_apps],
        elixir: [applications: [:kernel, :stdlib, :compiler]],
        logger: [applications: [:kernel, :stdlib, :elixir]],
        dep: [applications: [:kernel, :stdlib, :elixir, :crypto]],
        batamanta: [applications: [:kernel, :stdlib, :elixir]]
      },
      extra
    )
  end

  defp otp_names(tree), do: Enum.map(tree.otp, & &1.name)

  test "an Elixir project needs kernel, stdlib and the compiler's spec only" do
    assert {:ok, tree} =
             AppTree.resolve(:hello, specs([:kernel, :stdlib, :elixir, :logger]), @root)

    assert tree.embedded == [:elixir, :hello, :logger]
    assert otp_names(tree) == [:compiler, :kernel, :stdlib]
    assert %{spec_only: true} = Enum.find(tree.otp, &(&1.name == :compiler))
    assert Enum.all?(tree.otp, &File.dir?(&1.dir))
  end

  test "deps' applications are followed transitively; runtime: false deps are left out" do
    assert {:ok, tree} = AppTree.resolve(:hello, specs([:kernel, :stdlib, :elixir, :dep]), @root)
    assert :dep in tree.embedded
    refute :batamanta in tree.embedded
    assert :crypto in otp_names(tree)
  end

  test "a project that lists :compiler gets all of it" do
    apps = [:kernel, :stdlib, :elixir, :compiler]
    assert {:ok, tree} = AppTree.resolve(:hello, specs(apps), @root)
    assert %{spec_only: false} = Enum.find(tree.otp, &(&1.name == :compiler))
  end

  test "OTP applications bring their own dependencies" do
    apps = [:kernel, :stdlib, :elixir, :public_key]

    assert [_] = Path.wildcard(Path.join(@root, "lib/public_key-*/ebin/public_key.app")),
           "public_key is missing from #{@root}: scripts/install-deps installs erlang-public-key"

    assert {:ok, tree} = AppTree.resolve(:hello, specs(apps), @root)
    assert [:asn1, :crypto, :public_key] -- otp_names(tree) == []
  end

  test "a missing application is an error naming who needs it" do
    assert {:error, message} =
             AppTree.resolve(:hello, specs([:kernel, :elixir, :no_such_app]), @root)

    assert message =~ ":no_such_app needed by :hello"
    assert message =~ "extra_applications"
  end

  test "a missing optional application is skipped" do
    specs = specs([:kernel, :elixir, :no_such_app], %{})
    specs = put_in(specs[:hello][:optional_applications], [:no_such_app])
    assert {:ok, tree} = AppTree.resolve(:hello, specs, @root)
    refute :no_such_app in tree.embedded
  end

  test "the project's own .app must be in the escript" do
    assert {:error, message} = AppTree.resolve(:other, specs([]), @root)
    assert message =~ "other.app"
  end
end
