defmodule Batamanta.CleanE2ETest do
  # Builds examples/hello_cli, runs the binary so it extracts where the "Cache" section
  # of docs/FORMAT.md says, then runs `mix batamanta.clean` and checks that it removes
  # exactly what that section says it may: the dispenser and the task share the layout.
  use ExUnit.Case, async: false

  alias Batamanta.Test.Example

  @moduletag :e2e
  @moduletag timeout: 600_000

  setup_all do
    dir =
      Path.join(System.tmp_dir!(), "batamanta-clean-e2e-#{System.unique_integer([:positive])}")

    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)

    binary = Path.join(dir, "hello")

    {output, status} =
      Example.build("hello_cli", ["--output", binary, "--quiet"], Path.join(dir, "build-tmp"))

    assert status == 0, "mix batamanta failed:\n#{output}"
    %{binary: binary, dir: dir}
  end

  setup %{dir: dir} do
    root = Path.join(dir, "run-#{System.unique_integer([:positive])}")
    home = Path.join(root, "home")
    tmp = Path.join(root, "tmp")
    File.mkdir_p!(home)
    File.mkdir_p!(tmp)

    # Empty variables count as unset, so the binary and the task both pick
    # $HOME/.cache/batamanta; without HOME, both pick the private $TMPDIR fallback.
    env = [
      {"HOME", home},
      {"TMPDIR", tmp},
      {"XDG_CACHE_HOME", ""},
      {"BATAMANTA_CACHE_DIR", ""},
      {"MIX_ENV", nil},
      {"LANG", "C.UTF-8"}
    ]

    %{
      env: env,
      cache: Path.join([home, ".cache", "batamanta"]),
      fallback: Path.join(tmp, "batamanta-#{euid()}")
    }
  end

  defp euid do
    {uid, 0} = System.cmd("id", ["-u"])
    String.trim(uid)
  end

  defp extractions(dir) do
    dir |> File.ls!() |> Enum.filter(&String.starts_with?(&1, "hello_cli-0.1.0-")) |> Enum.sort()
  end

  defp clean(context) do
    mix = System.find_executable("mix")
    cd = Example.path("hello_cli")

    {output, status} =
      System.cmd(mix, ["batamanta.clean"], cd: cd, env: context.env, stderr_to_stdout: true)

    assert status == 0, "mix batamanta.clean failed:\n#{output}"
    output
  end

  # Runs `hello wait`, which prints "waiting" and then blocks, so the binary keeps its
  # extraction in use until it is killed.
  defp start_waiting(context, env) do
    port =
      Port.open({:spawn_executable, context.binary}, [
        :binary,
        :exit_status,
        args: ["wait"],
        env:
          Enum.map(env, fn {k, v} ->
            {String.to_charlist(k), v != nil && String.to_charlist(v)}
          end)
      ])

    assert_receive {^port, {:data, "waiting" <> _}}, 30_000
    port
  end

  defp stop(port) do
    {:os_pid, pid} = Port.info(port, :os_pid)
    System.cmd("kill", ["-TERM", to_string(pid)])
    assert_receive {^port, {:exit_status, _}}, 30_000
  end

  test "clean removes unused extractions and leftovers in the cache and its fallback", context do
    assert {"Hello from batamanta!\n", 0} = System.cmd(context.binary, [], env: context.env)
    assert [extraction] = extractions(context.cache)

    assert File.read!(Path.join([context.cache, extraction, ".batamanta-extraction"])) =~
             "app=hello_cli\n"

    no_home = List.keystore(context.env, "HOME", 0, {"HOME", nil})
    assert {"Hello from batamanta!\n", 0} = System.cmd(context.binary, [], env: no_home)
    assert [^extraction] = extractions(context.fallback)

    # What killed dispensers leave behind, and what is not batamanta's.
    for name <-
          ~w(.batamanta-tmp-0123abcd .batamanta-trash-4567ef01 .batamanta-new-old .batamanta-new-fresh notes other-1.0-0123456789abcdef) do
      File.mkdir_p!(Path.join([context.cache, name, "lib"]))
    end

    File.touch!(Path.join(context.cache, ".batamanta-new-old"), System.os_time(:second) - 3600)

    running = start_waiting(context, context.env)

    try do
      output = clean(context)
      assert output =~ "extractions: removed 3 from #{context.cache}"
      assert output =~ "kept 1 in use by a running binary"
      assert output =~ "extractions: removed 1 from #{context.fallback}"
    after
      stop(running)
    end

    assert File.ls!(context.fallback) == []

    assert Enum.sort(File.ls!(context.cache)) ==
             Enum.sort([extraction, ".batamanta-new-fresh", "notes", "other-1.0-0123456789abcdef"])

    # Once the binary has exited its extraction is unused; the next start extracts anew.
    assert clean(context) =~ "extractions: removed 1 from #{context.cache}"
    assert extractions(context.cache) == []
    assert {"Hello from batamanta!\n", 0} = System.cmd(context.binary, [], env: context.env)
    assert [^extraction] = extractions(context.cache)
  end

  test "an explicit BATAMANTA_CACHE_DIR is the only directory cleaned", context do
    explicit = Path.join(Path.dirname(context.cache), "explicit")
    env = List.keystore(context.env, "BATAMANTA_CACHE_DIR", 0, {"BATAMANTA_CACHE_DIR", explicit})
    assert {"Hello from batamanta!\n", 0} = System.cmd(context.binary, [], env: env)
    assert {"Hello from batamanta!\n", 0} = System.cmd(context.binary, [], env: context.env)
    assert [_] = extractions(explicit)

    output = clean(%{context | env: env})
    assert output =~ "extractions: removed 1 from #{explicit}"
    refute output =~ "from #{context.cache}"
    assert extractions(explicit) == []
    assert [_] = extractions(context.cache)
  end
end
