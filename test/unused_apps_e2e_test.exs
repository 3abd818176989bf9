defmodule Batamanta.UnusedAppsE2ETest do
  # What a :cli binary leaves out of its release (Batamanta.UnusedApps), checked on real
  # builds: an app that uses IEx and compiles code at run time, without listing :iex or
  # :compiler, keeps both and runs; hello_cli leaves them out and still runs, and
  # keep_all: true packs the whole release.
  use ExUnit.Case, async: false

  alias Batamanta.Test.Example

  @moduletag :e2e
  @moduletag timeout: 600_000

  @root Path.expand("..", __DIR__)

  @mix_exs """
  defmodule RuntimeCode.MixProject do
    use Mix.Project

    def project do
      [
        app: :runtime_code,
        version: "0.1.0",
        deps: [{:batamanta, path: "#{@root}", runtime: false}],
        batamanta: [compression: 1, binary_name: "runtime_code"]
      ]
    end

    def application, do: [mod: {RuntimeCode, []}]
  end
  """

  # IEx.Info is IEx's, reached only through the release's lib/iex; the defmodule
  # evaluated at run time needs the compiler's modules.
  @app """
  defmodule RuntimeCode do
    use Application

    def start(_type, _args) do
      info = IEx.Info.info(:ok) |> Enum.into(%{}) |> Map.fetch!("Data type")
      {answer, _} = Code.eval_string("defmodule Compiled do def answer, do: 42 end; Compiled.answer()")
      IO.puts("\#{info} \#{answer}")
      System.halt(0)
    end
  end
  """

  setup_all do
    dir = Path.join(System.tmp_dir!(), "batamanta-unused-#{System.unique_integer([:positive])}")
    File.mkdir_p!(Path.join(dir, "runtime_code/lib"))
    on_exit(fn -> File.rm_rf!(dir) end)
    File.write!(Path.join(dir, "runtime_code/mix.exs"), @mix_exs)
    File.write!(Path.join(dir, "runtime_code/lib/runtime_code.ex"), @app)
    %{dir: dir}
  end

  defp build(project_dir, args, tmp) do
    env = [{"MIX_ENV", nil}, {"SOURCE_DATE_EPOCH", "1700000000"}, {"TMPDIR", tmp}]
    System.cmd("mix", ["batamanta" | args], cd: project_dir, env: env, stderr_to_stdout: true)
  end

  defp run(binary, dir) do
    env = [{"BATAMANTA_CACHE_DIR", Path.join(dir, "cache")}]
    System.cmd(binary, [], env: env, stderr_to_stdout: true)
  end

  defp payload_entries(output) do
    [_, entries] = Regex.run(~r/packed (\d+) entries/, output)
    String.to_integer(entries)
  end

  test "an app that uses IEx and compiles at run time keeps both and runs", %{dir: dir} do
    binary = Path.join(dir, "runtime_code-bin")
    project = Path.join(dir, "runtime_code")
    {output, status} = build(project, ["--output", binary], Path.join(dir, "tmp"))
    assert status == 0, output
    assert output =~ "left out :sasl, the release scripts"
    refute output =~ ":iex"
    refute output =~ "compiler"
    assert {"Atom 42\n", 0} = run(binary, dir)
  end

  test "hello_cli leaves out IEx, sasl and the compiler's modules; keep_all keeps them",
       %{dir: dir} do
    binary = Path.join(dir, "hello")
    {output, 0} = Example.build("hello_cli", ["--output", binary], Path.join(dir, "tmp"))
    assert output =~ "left out :iex, :sasl, :compiler's modules, the release scripts"
    assert {"Hello from batamanta!\n", 0} = run(binary, dir)

    whole = Path.join(dir, "hello-whole")
    args = ["--output", whole, "--keep-all"]
    {whole_output, 0} = Example.build("hello_cli", args, Path.join(dir, "tmp"))
    refute whole_output =~ "left out"
    assert payload_entries(whole_output) > payload_entries(output) + 100
    assert File.stat!(whole).size > File.stat!(binary).size
  end
end
