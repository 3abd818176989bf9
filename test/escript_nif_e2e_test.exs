defmodule Batamanta.EscriptNifE2ETest do
  # format: :escript with a path dependency whose C NIF is compiled by a small custom
  # Mix compiler into its priv/, next to a data file: the binary finds both through
  # :code.priv_dir/1 and loads the NIF, instead of failing at run time.
  use ExUnit.Case, async: false

  alias Batamanta.Test.Project

  @moduletag :e2e
  @moduletag timeout: 900_000

  @nif_c """
  #include <erl_nif.h>

  static ERL_NIF_TERM add(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    int a, b;
    if (!enif_get_int(env, argv[0], &a) || !enif_get_int(env, argv[1], &b))
      return enif_make_badarg(env);
    return enif_make_int(env, a + b);
  }

  static ErlNifFunc funcs[] = {{"add", 2, add, 0}};
  ERL_NIF_INIT(Elixir.NifDep, funcs, NULL, NULL, NULL, NULL)
  """

  setup_all do
    parent = Project.scratch("batamanta-escript-nif")

    include = Path.join(:code.root_dir(), "usr/include")

    project =
      Project.write(parent, "nifapp", %{
        "mix.exs" =>
          Project.mix_exs(
            "NifApp",
            """
            [
              app: :nifapp,
              version: "0.1.0",
              escript: [main_module: NifApp.CLI],
              deps: [{:nifdep, path: "nifdep"}, #{Project.batamanta_dep()}],
              batamanta: [compression: 1, show_banner: false, erts_source: :host]
            ]
            """,
            "[extra_applications: [:logger]]"
          ),
        "lib/nifapp/cli.ex" => """
        defmodule NifApp.CLI do
          def main(_argv) do
            IO.puts("2 + 3 = \#{NifDep.add(2, 3)}, \#{NifDep.greeting()}")
          end
        end
        """,
        "nifdep/mix.exs" => """
        defmodule Mix.Tasks.Compile.NifAdd do
          use Mix.Task.Compiler

          def run(_args) do
            File.mkdir_p!("priv")
            args = ~w(-shared -fPIC -O2 -I#{include} -o priv/nif_add.so c_src/nif_add.c)

            case System.cmd("cc", args, stderr_to_stdout: true) do
              {_, 0} -> {:ok, []}
              {output, _} -> Mix.raise("cc failed: " <> output)
            end
          end
        end

        defmodule NifDep.MixProject do
          use Mix.Project

          def project do
            [app: :nifdep, version: "0.2.0", compilers: [:nif_add | Mix.compilers()]]
          end

          def application, do: []
        end
        """,
        "nifdep/c_src/nif_add.c" => @nif_c,
        "nifdep/priv/greeting.txt" => "hello from priv",
        "nifdep/lib/nif_dep.ex" => """
        defmodule NifDep do
          @on_load :load_nif

          def load_nif do
            :erlang.load_nif(:filename.join(:code.priv_dir(:nifdep), 'nif_add'), 0)
          end

          def add(_a, _b), do: :erlang.nif_error(:not_loaded)

          def greeting, do: File.read!(Path.join(:code.priv_dir(:nifdep), "greeting.txt"))
        end
        """
      })

    %{project: project}
  end

  test "the dependency's NIF and priv files work in the escript binary", %{project: project} do
    binary = Path.join(Path.dirname(project), "nifapp")
    {output, status} = Project.mix(project, project, ~w(batamanta -o #{binary}))
    assert status == 0, output
    assert output =~ "* built escript NifApp.CLI"
    assert output =~ "beside it lib/nifdep-0.2.0"
    assert {"2 + 3 = 5, hello from priv\n", 0} = Project.run(project, binary)
  end
end
