defmodule Batamanta.NoSwiftE2ETest do
  # A user with no Swift (issue 11): a fresh `mix new --sup` app depends on the tree
  # `scripts/package` writes, copied elsewhere, and builds and runs a :cli, a :tui and a
  # :daemon binary in a mount namespace where /opt/swift is an empty tmpfs and PATH
  # has no swift. A tampered artifact is then refused, naming the file, and a package
  # with no artifacts for this host says which triple is missing and how to get Swift.
  use ExUnit.Case, async: false

  alias Batamanta.Test.Package

  @moduletag :e2e
  @moduletag timeout: 900_000

  # Runs in a private mount namespace; checks that Swift is really gone first.
  @no_swift """
  mount -t tmpfs tmpfs /opt/swift
  if command -v swift >/dev/null 2>&1; then echo "swift is visible"; exit 99; fi
  if [ -n "$(ls -A /opt/swift)" ]; then echo "/opt/swift is visible"; exit 98; fi
  exec "$@"
  """

  @application """
  defmodule Greeter.Application do
    @moduledoc false
    use Application

    @impl true
    def start(_type, _args) do
      children =
        case System.argv() do
          ["greet" | _] -> [{Task, &greet/0}]
          _ -> []
        end

      Supervisor.start_link(children, strategy: :one_for_one, name: Greeter.Supervisor)
    end

    defp greet do
      IO.puts("hello without swift")
      System.halt(0)
    end
  end
  """

  setup_all do
    System.find_executable("unshare") || flunk("unshare (util-linux) is needed for this test")
    dir = Path.join(System.tmp_dir!(), "batamanta-no-swift-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)

    packaged = Path.join(dir, "packaged")
    Package.build!(packaged)
    package = Path.join(dir, "elsewhere/batamanta")
    File.mkdir_p!(Path.dirname(package))
    {_, 0} = System.cmd("cp", ["-a", packaged, package])

    env = [
      {"MIX_ENV", nil},
      {"PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"},
      {"SWIFT", nil},
      {"TMPDIR", Path.join(dir, "tmp")},
      {"BATAMANTA_CACHE_DIR", Path.join(dir, "cache")},
      {"XDG_STATE_HOME", Path.join(dir, "state")},
      {"LANG", "C.UTF-8"}
    ]

    File.mkdir_p!(Path.join(dir, "tmp"))
    context = %{dir: dir, package: package, env: env, app: Path.join(dir, "greeter")}
    {output, 0} = no_swift(context, dir, ["mix", "new", "greeter", "--sup"])
    assert output =~ "greeter"

    mix_exs = Path.join(context.app, "mix.exs")

    File.write!(
      mix_exs,
      File.read!(mix_exs)
      |> String.replace(
        "deps: deps()",
        "deps: deps(),\n      batamanta: [compression: 3, show_banner: false]"
      )
      |> String.replace(
        ~r/defp deps do\n.*?\n  end/s,
        "defp deps do\n    [{:batamanta, path: #{inspect(package)}, runtime: false}]\n  end"
      )
    )

    File.write!(Path.join(context.app, "lib/greeter/application.ex"), @application)
    context
  end

  defp no_swift(context, cd, command) do
    System.cmd(
      "unshare",
      ["-m", "--propagation", "private", "sh", "-c", @no_swift, "sh" | command],
      cd: cd,
      env: context.env,
      stderr_to_stdout: true
    )
  end

  defp batamanta!(context, mode) do
    binary = Path.join(context.dir, "greeter-#{mode}")
    args = ["mix", "batamanta", "--mode", to_string(mode), "--output", binary]
    {output, status} = no_swift(context, context.app, args)
    assert status == 0, "mix batamanta --mode #{mode} failed:\n#{output}"
    assert output =~ "mode         #{mode}"
    {binary, output}
  end

  test "a :cli, a :tui and a :daemon binary build and run; a tampered artifact is refused",
       context do
    {cli, output} = batamanta!(context, :cli)

    assert output =~
             ~r/Installed batamanta's prebuilt helper and \d+ dispensers for x86_64-linux-gnu/

    refute File.exists?(Path.join(context.package, ".build"))
    assert {"hello without swift\n", 0} = System.cmd(cli, ["greet"], env: context.env)

    # A terminal for the TUI binary: script(1) runs it on a pseudo-terminal.
    {tui, _} = batamanta!(context, :tui)

    {output, status} =
      System.cmd("script", ["-qec", "#{tui} greet", "/dev/null"], env: context.env)

    assert {status, output =~ "hello without swift"} == {0, true}, output

    {daemon, _} = batamanta!(context, :daemon)
    assert {started, 0} = System.cmd(daemon, ["start"], env: context.env, stderr_to_stdout: true)
    assert started =~ "started greeter"

    try do
      assert {"3\n", 0} = System.cmd(daemon, ["rpc", "IO.puts(1 + 2)"], env: context.env)
    after
      assert {_, 0} = System.cmd(daemon, ["stop"], env: context.env, stderr_to_stdout: true)
    end

    tampered = Path.join(context.package, "priv/native/x86_64-linux-gnu/batamanta-dispenser-tui")
    File.write!(tampered, "not the dispenser", [:append])
    {output, status} = no_swift(context, context.app, ["mix", "deps.compile", "batamanta"])
    assert status != 0
    assert output =~ "prebuilt artifact #{tampered} does not match its checksum in MANIFEST"
    assert output =~ "That needs a Swift 6 toolchain"

    # A package built on another kind of host only.
    native = Path.join(context.package, "priv/native")
    File.rename!(Path.join(native, "x86_64-linux-gnu"), Path.join(native, "aarch64-linux-gnu"))
    manifest = Path.join(native, "MANIFEST")

    File.write!(
      manifest,
      String.replace(File.read!(manifest), "x86_64-linux-gnu/", "aarch64-linux-gnu/")
    )

    {output, status} = no_swift(context, context.app, ["mix", "deps.compile", "batamanta"])
    assert status != 0

    assert output =~
             "no prebuilt helper for this machine's host triple x86_64-linux-gnu " <>
               "(it has aarch64-linux-gnu)"

    assert output =~ "https://www.swift.org/install/"
  end
end
