defmodule Batamanta.InspectCleanE2ETest do
  # `mix batamanta.inspect BIN` and `mix batamanta.clean` read a binary and the caches:
  # they work in a project whose own code does not compile.
  use ExUnit.Case, async: false

  alias Batamanta.Test.Project

  @moduletag :e2e
  @moduletag timeout: 900_000

  setup_all do
    parent = Project.scratch("batamanta-inspect")

    files = fn body ->
      %{
        "mix.exs" =>
          Project.mix_exs(
            "Broken",
            """
            [
              app: :broken,
              version: "0.1.0",
              deps: [#{Project.batamanta_dep()}],
              batamanta: [compression: 1, show_banner: false, erts_source: :host]
            ]
            """,
            "[extra_applications: [:logger], mod: {Broken.Application, []}]"
          ),
        "lib/broken/application.ex" => body
      }
    end

    good = """
    defmodule Broken.Application do
      use Application

      def start(_type, _args) do
        Supervisor.start_link([{Task, fn -> System.halt(0) end}], strategy: :one_for_one)
      end
    end
    """

    project = Project.write(parent, "broken", files.(good))
    binary = Path.join(parent, "broken-bin")
    {output, status} = Project.mix(project, project, ~w(batamanta -o #{binary}))
    assert status == 0, output
    assert {"", 0} = Project.run(project, binary)

    # Now break the project's own code, as a half-done edit or a dep's missing env does.
    File.write!(
      Path.join(project, "lib/broken/application.ex"),
      "defmodule Broken.Application do\n  def x(\nend\n"
    )

    File.rm_rf!(Path.join(project, "_build/dev/lib/broken"))
    {output, status} = Project.mix(project, project, ["compile"])
    assert status != 0, "the broken project compiled:\n#{output}"

    %{project: project, binary: binary}
  end

  test "inspect reads the binary without compiling the project", context do
    {output, status} =
      Project.mix(context.project, context.project, ["batamanta.inspect", context.binary])

    assert status == 0, output
    assert output =~ "broken"
    refute output =~ "Compiling"
    refute output =~ "Compilation error"
    refute output =~ "** ("
  end

  test "clean removes the caches without compiling the project", context do
    extractions = Path.join(Path.dirname(context.project), "binaries")
    assert File.ls!(extractions) != []

    {output, status} = Project.mix(context.project, context.project, ["batamanta.clean"])
    assert status == 0, output
    refute output =~ "Compiling"
    assert output =~ "erts: removed"
    assert Enum.reject(File.ls!(extractions), &String.starts_with?(&1, ".")) == []
  end
end
