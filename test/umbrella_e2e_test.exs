defmodule Batamanta.UmbrellaE2ETest do
  # An umbrella with two apps: `mix batamanta` at its root builds the umbrella's release
  # (named after it, app `a` calling app `b`), errors name the release, and inside a
  # child app it builds that app's own release as before.
  use ExUnit.Case, async: false

  alias Batamanta.Inspection
  alias Batamanta.Native
  alias Batamanta.Test.Project

  @moduletag :e2e
  @moduletag timeout: 900_000

  setup_all do
    parent = Project.scratch("batamanta-umbrella")

    child = fn app, deps ->
      """
      [
        app: :#{app},
        version: "0.1.0",
        build_path: "../../_build",
        config_path: "../../config/config.exs",
        deps_path: "../../deps",
        lockfile: "../../mix.lock",
        deps: [#{deps}],
        batamanta: [compression: 1, show_banner: false, erts_source: :host]
      ]
      """
    end

    project =
      Project.write(parent, "umbrella", %{
        "mix.exs" =>
          Project.mix_exs(
            "Umbrella",
            """
            [
              apps_path: "apps",
              deps: [#{Project.batamanta_dep()}],
              releases: [both: [applications: [a: :permanent, b: :permanent], version: "0.3.0"]],
              batamanta: [compression: 1, show_banner: false, erts_source: :host]
            ]
            """,
            "[]"
          ),
        "config/config.exs" => "import Config\n",
        "apps/a/mix.exs" =>
          Project.mix_exs(
            "A",
            child.("a", "{:b, in_umbrella: true}, #{Project.batamanta_dep()}"),
            "[extra_applications: [:logger], mod: {A.Application, []}]"
          ),
        "apps/a/lib/a/application.ex" => """
        defmodule A.Application do
          use Application

          def start(_type, _args) do
            line = "a says: " <> B.greeting() <> " (" <> System.get_env("RELEASE_NAME") <> ")"
            children = [{Task, fn -> IO.puts(line); System.halt(0) end}]
            Supervisor.start_link(children, strategy: :one_for_one)
          end
        end
        """,
        "apps/b/mix.exs" =>
          Project.mix_exs("B", child.("b", ""), "[extra_applications: [:logger]]"),
        "apps/b/lib/b.ex" => """
        defmodule B do
          def greeting, do: "hello from b"
        end
        """
      })

    %{project: project}
  end

  test "at the root it builds the umbrella's release, named after it", %{project: project} do
    {output, status} = Project.mix(project, project, ["batamanta"])
    assert status == 0, output
    assert output =~ "* resolved config for release both 0.3.0"
    assert output =~ "* built release both 0.3.0"

    binary = Path.join(project, "both-0.3.0-x86_64-linux")
    assert {"a says: hello from b (both)\n", 0} = Project.run(project, binary)

    native = Native.start()

    try do
      assert {:ok, %{metadata: metadata}} = Inspection.read(native, binary, false)
      assert {"app", "both"} in metadata
      assert {"release", "both"} in metadata
    after
      Native.close(native)
    end
  end

  test "an unknown release at the root is an error naming it", %{project: project} do
    {output, status} = Project.mix(project, project, ~w(batamanta --release nope))
    assert status != 0
    assert output =~ "release nope"
    assert output =~ "its releases are both"
  end

  test "inside a child app it builds that app's release", %{project: project} do
    app = Path.join(project, "apps/a")
    {output, status} = Project.mix(app, project, ["batamanta"])
    assert status == 0, output
    binary = Path.join(app, "a-0.1.0-x86_64-linux")
    assert {"a says: hello from b (a)\n", 0} = Project.run(project, binary)
  end
end
