defmodule Batamanta.ReleasesE2ETest do
  # A project with two releases, built the way issue 12 found broken: each release gets
  # its own output name, builds of one project run at once (into different outputs and
  # into one), CI output carries no escape codes, and an explicit target that cannot be
  # provisioned is an error instead of a quiet fallback to the host's runtime.
  use ExUnit.Case, async: false

  alias Batamanta.Test.Project

  @moduletag :e2e
  @moduletag timeout: 900_000

  # No network in the tests: the default source (Hex) points at a closed port.
  @offline [{"BATAMANTA_HEX_OTP_URL", "http://127.0.0.1:1/otp"}]

  setup_all do
    parent = Project.scratch("batamanta-releases")

    project =
      Project.write(parent, "multi", %{
        "mix.exs" =>
          Project.mix_exs(
            "Multi",
            """
            [
              app: :multi,
              version: "0.1.0",
              deps: [#{Project.batamanta_dep()}],
              releases: [alpha: [], beta: []],
              batamanta: [compression: 1, show_banner: false]
            ]
            """,
            "[extra_applications: [:logger], mod: {Multi.Application, []}]"
          ),
        "lib/multi/application.ex" => """
        defmodule Multi.Application do
          use Application

          def start(_type, _args) do
            release = System.get_env("RELEASE_NAME")
            children = [{Task, fn -> IO.puts("release " <> release); System.halt(0) end}]
            Supervisor.start_link(children, strategy: :one_for_one)
          end
        end
        """
      })

    # The first build also compiles the project's deps in the outer mix, which Mix does
    # not guard against a concurrent run; the later builds only race batamanta's work.
    ci =
      Project.mix(project, project, ~w(batamanta --release alpha), [{"CI", "true"} | @offline])
      |> in_a_terminal(project)

    %{project: project, ci: ci}
  end

  # Runs the same build again under script(1), so stdout is a terminal and only CI says
  # to keep escape codes out.
  defp in_a_terminal({_output, 0}, project) do
    command = "mix batamanta --release alpha -o #{project}/../alpha-tty"

    env =
      Project.env(
        project,
        [{"CI", "true"}, {"TERM", "xterm-256color"}, {"NO_COLOR", nil}] ++ @offline
      )

    System.cmd("script", ["-qec", command, "/dev/null"],
      cd: project,
      env: env,
      stderr_to_stdout: true
    )
  end

  defp in_a_terminal({output, status}, _project) do
    flunk("mix batamanta --release alpha failed (#{status}):\n#{output}")
  end

  defp binary(project, name), do: Path.join(project, "#{name}-0.1.0-x86_64-linux")

  test "CI=true output on a terminal has no escape codes, warnings included", %{ci: ci} do
    {output, status} = ci
    assert status == 0, output
    refute output =~ "\e"
    [warning] = for line <- String.split(output, ~r/\r?\n/), line =~ "warning:", do: line
    assert warning =~ "using this machine's own OTP"
    assert String.length(warning) < 160, warning
  end

  test "each release is named after itself and runs", %{project: project} do
    {output, 0} = Project.mix(project, project, ~w(batamanta --release beta --quiet), @offline)
    refute output =~ "warning"
    assert {"release beta\n", 0} = Project.run(project, binary(project, "beta"))
    assert {"release alpha\n", 0} = Project.run(project, binary(project, "alpha"))
  end

  test "two builds of one project at once, into different outputs and into one", %{
    project: project
  } do
    dir = Path.dirname(project)

    builds =
      for {release, output} <- [
            {"alpha", "a1"},
            {"beta", "b1"},
            {"alpha", "same"},
            {"alpha", "same"}
          ] do
        args = ~w(batamanta --release #{release} --erts-source host -o #{dir}/#{output})
        Task.async(fn -> Project.mix(project, project, args) end)
      end

    for {output, status} <- Task.await_many(builds, 600_000) do
      assert status == 0, output
      refute output =~ "warning"
    end

    assert {"release alpha\n", 0} = Project.run(project, Path.join(dir, "a1"))
    assert {"release beta\n", 0} = Project.run(project, Path.join(dir, "b1"))
    assert {"release alpha\n", 0} = Project.run(project, Path.join(dir, "same"))
    assert Path.wildcard(Path.join(dir, "tmp/*")) == []
    assert Path.wildcard(Path.join(dir, ".same.tmp-*"), match_dot: true) == []
  end

  test "an --output that is a directory is refused before building", %{project: project} do
    dir = Path.dirname(project)
    {output, status} = Project.mix(project, project, ~w(batamanta --release alpha -o #{dir}))
    assert status != 0
    assert output =~ "the output #{dir} (option output: / --output) is a directory"
    refute output =~ "built release"
  end

  test "an explicit erts_target that cannot be provisioned is an error", %{project: project} do
    args = ~w(batamanta --release alpha --erts-target ubuntu_22_04_x86_64)
    {output, status} = Project.mix(project, project, args, @offline)
    assert status != 0
    assert output =~ "erts_target: :ubuntu_22_04_x86_64 (--erts-target)"
    assert output =~ "cannot be provisioned"
    refute output =~ "built release"
  end

  test "an unknown release is an error that names it", %{project: project} do
    {output, status} = Project.mix(project, project, ~w(batamanta --release gamma))
    assert status != 0
    assert output =~ "release gamma"
    assert output =~ "alpha, beta"
  end
end
