defmodule Batamanta.ReleaseResolveTest do
  # Release.resolve/2: which release a build makes and what it is named, before any work.
  use ExUnit.Case, async: true

  alias Batamanta.{Config, Release}

  defp resolve(project, argv \\ []) do
    {:ok, config} = Config.resolve(project, argv, %{}, "/p")
    Release.resolve(config, project)
  end

  @multi [app: :multi, version: "0.1.0", releases: [alpha: [], beta: [version: "2.0.0"]]]

  test "the output is named after the release, or binary_name" do
    assert {:ok, %Config{release: "beta", binary_name: "beta", version: "2.0.0"}} =
             resolve(@multi, ~w(--release beta))

    assert {:ok, %Config{release: "alpha", binary_name: "alpha", app: :multi}} =
             resolve(@multi, ~w(--release alpha))

    assert {:ok, %Config{binary_name: "x"}} = resolve(@multi, ~w(--release alpha --binary-name x))
    assert {:ok, %Config{release: "hello"}} = resolve(app: :hello, version: "1.0.0")
  end

  test "default_release picks one of several; without it the error lists them" do
    assert {:ok, %Config{release: "beta"}} = resolve([default_release: :beta] ++ @multi)
    assert {:error, message} = resolve(@multi)
    assert message =~ ":alpha, :beta"
  end

  test "an unknown release is an error naming it" do
    assert {:error, message} = resolve(@multi, ~w(--release gamma))
    assert message =~ "release gamma"
    assert message =~ "alpha, beta"
    assert {:error, message} = resolve([app: :hello, version: "1.0.0"], ~w(--release other))
    assert message =~ "release other"
  end

  test "an umbrella's root is named after its release and needs one" do
    umbrella = [
      apps_path: "apps",
      releases: [both: [applications: [a: :permanent], version: "3.0.0"]]
    ]

    assert {:ok, %Config{app: :both, release: "both", version: "3.0.0"}} = resolve(umbrella)
    assert {:error, message} = resolve(apps_path: "apps")
    assert message =~ "defines no release"
  end

  test "an escript is named after the app, and cannot be built at an umbrella's root" do
    escript = [app: :tool, version: "1.0.0", escript: [main_module: Tool]]
    assert {:ok, %Config{binary_name: "tool", release: nil}} = resolve(escript)

    assert {:error, message} =
             resolve(apps_path: "apps", escript: [main_module: Tool], releases: [r: []])

    assert message =~ "umbrella"
  end
end
