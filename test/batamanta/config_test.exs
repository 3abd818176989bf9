defmodule Batamanta.ConfigTest do
  use ExUnit.Case, async: true

  alias Batamanta.Config

  @project [app: :hello, version: "0.1.0"]

  defp resolve(batamanta, argv \\ [], env \\ %{}, project \\ @project) do
    Config.resolve(Keyword.put(project, :batamanta, batamanta), argv, env, "/project")
  end

  defp error!(batamanta, argv \\ [], project \\ @project) do
    assert {:error, message} = resolve(batamanta, argv, %{}, project)
    message
  end

  describe "defaults" do
    test "every option has its documented default" do
      assert {:ok, config} = Config.resolve(@project, [], %{}, "/project")

      assert %Config{
               app: :hello,
               version: "0.1.0",
               project_root: "/project",
               execution_mode: :cli,
               format: :release,
               compression: 16,
               binary_name: nil,
               output: nil,
               otp_version: :auto,
               erts_target: :auto,
               force_os: nil,
               force_arch: nil,
               force_libc: nil,
               erts_source: nil,
               escript_module: nil,
               release: nil,
               show_banner: true,
               quiet: false,
               source_date_epoch: 0
             } = config
    end

    test "erts_source and SOURCE_DATE_EPOCH come from the environment" do
      env = %{
        "BATAMANTA_ERTS_SOURCE" => "https://mirror.example/erts/",
        "SOURCE_DATE_EPOCH" => "1700000000"
      }

      assert {:ok, config} = resolve([], [], env)
      assert config.erts_source == "https://mirror.example/erts"
      assert config.source_date_epoch == 1_700_000_000
    end

    test "a bad SOURCE_DATE_EPOCH is named" do
      assert {:error, message} = resolve([], [], %{"SOURCE_DATE_EPOCH" => "yesterday"})
      assert message =~ "SOURCE_DATE_EPOCH"
    end
  end

  describe "mix.exs options" do
    test "are all accepted" do
      assert {:ok, config} =
               resolve(
                 execution_mode: :tui,
                 format: :release,
                 compression: 19,
                 binary_name: "hi",
                 output: "dist/hi",
                 otp_version: "25.2.3",
                 erts_target: :alpine_3_19_arm64,
                 force_os: :linux,
                 force_arch: :aarch64,
                 force_libc: :musl,
                 erts_source: "file:///srv/erts",
                 release: :hello,
                 show_banner: false
               )

      assert config.execution_mode == :tui
      assert config.compression == 19
      assert config.binary_name == "hi"
      assert config.output == "dist/hi"
      assert config.otp_version == "25.2.3"
      assert config.erts_target == :alpine_3_19_arm64
      assert {config.force_os, config.force_arch, config.force_libc} == {:linux, :aarch64, :musl}
      assert config.erts_source == "file:///srv/erts"
      assert config.release == :hello
      refute config.show_banner
    end
  end

  describe "flags" do
    test "override mix.exs" do
      batamanta = [execution_mode: :cli, compression: 3, binary_name: "hello", show_banner: true]

      argv =
        ~w(--mode daemon --compression 12 --binary-name other --output out/bin --otp-version 26.2.5
           --erts-target macos_12_arm64 --force-os macos --force-arch aarch64
           --erts-source https://x.example --release hello --no-banner --quiet)

      assert {:ok, config} = resolve(batamanta, argv)
      assert config.execution_mode == :daemon
      assert config.compression == 12
      assert config.binary_name == "other"
      assert config.output == "out/bin"
      assert config.otp_version == "26.2.5"
      assert config.erts_target == :macos_12_arm64
      assert {config.force_os, config.force_arch} == {:macos, :aarch64}
      assert config.erts_source == "https://x.example"
      assert config.release == "hello"
      refute config.show_banner
      assert config.quiet
    end

    test "have short aliases" do
      assert {:ok, config} = resolve([], ~w(-o out -q -c 4 -m tui))

      assert {config.output, config.quiet, config.compression, config.execution_mode} ==
               {"out", true, 4, :tui}
    end

    test "override the environment" do
      env = %{"BATAMANTA_ERTS_SOURCE" => "https://env.example"}
      assert {:ok, config} = resolve([], ~w(--erts-source https://flag.example), env)
      assert config.erts_source == "https://flag.example"
    end

    test "an unknown flag is an error" do
      message = error!([], ~w(--compresion 3))
      assert message =~ "--compresion"
    end

    test "a non-integer --compression is an error" do
      assert error!([], ~w(--compression high)) =~ "--compression"
    end

    test "positional arguments are an error" do
      assert error!([], ~w(extra)) =~ "positional"
    end
  end

  describe "invalid values are rejected by name with the valid values" do
    for level <- [0, 20, "3", 3.0] do
      test "compression #{inspect(level)}" do
        message = error!(compression: unquote(level))
        assert message =~ "compression"
        assert message =~ inspect(unquote(level))
        assert message =~ "1 to 19"
      end
    end

    test "an unknown target atom" do
      message = error!(erts_target: :ubuntu_20_04_x86_64)
      assert message =~ "erts_target"
      assert message =~ ":ubuntu_20_04_x86_64"

      for target <- Config.targets(), do: assert(message =~ inspect(target))
    end

    test "an unknown target flag does not create an atom" do
      message = error!([], ~w(--erts-target not_a_target_at_all_xyz))
      assert message =~ "--erts-target"
      assert message =~ ":alpine_3_19_x86_64"
    end

    test "an unknown execution_mode" do
      message = error!(execution_mode: :gui)
      assert message =~ "execution_mode"
      assert message =~ ":cli, :tui, :daemon"
      assert error!([], ~w(--mode gui)) =~ "--mode"
    end

    test "an unknown format" do
      assert error!(format: :tarball) =~ ":release, :escript"
    end

    test "force_os, force_arch and force_libc" do
      assert error!(force_os: :freebsd) =~ ":linux, :macos, :windows"
      assert error!(force_arch: :riscv64) =~ ":x86_64, :aarch64"
      assert error!(force_libc: :uclibc) =~ ":gnu, :musl"
    end

    for version <- ["latest", "25.x", 25, "", "v26.2"] do
      test "otp_version #{inspect(version)}" do
        message = error!(otp_version: unquote(version))
        assert message =~ "otp_version"
        assert message =~ ~s("25.2.3")
      end
    end

    test "a binary_name with a slash" do
      message = error!(binary_name: "bin/hello")
      assert message =~ "binary_name"
      assert message =~ "/"
      assert error!([], ~w(--binary-name a/b)) =~ "--binary-name"
    end

    test "an empty binary_name" do
      assert error!(binary_name: "") =~ "binary_name"
    end

    test "an erts_source that is not a URL" do
      assert error!(erts_source: "mirror.example") =~ "erts_source"
    end

    test "erts_source :host, from mix.exs, the flag or the environment" do
      assert {:ok, %{erts_source: :host}} = resolve(erts_source: :host)
      assert {:ok, %{erts_source: :host}} = resolve([], ~w(--erts-source host))
      assert {:ok, %{erts_source: :host}} = resolve([], [], %{"BATAMANTA_ERTS_SOURCE" => "host"})
    end

    test "format :escript without a main module" do
      message = error!(format: :escript)
      assert message =~ "escript"
      assert message =~ "main_module"
      assert message =~ "--escript-module"
    end

    test "a batamanta: value that is not a keyword list" do
      assert {:error, message} = Config.resolve([batamanta: :cli] ++ @project, [], %{}, "/p")
      assert message =~ "keyword list"
    end
  end

  describe "unknown keys" do
    test "suggest the closest valid key" do
      message = error!(compresion: 3)
      assert message =~ ":compresion"
      assert message =~ "Did you mean :compression?"
    end

    test "suggest execution_mode for a near miss" do
      assert error!(execution_mod: :cli) =~ "Did you mean :execution_mode?"
    end

    test "list the valid keys when nothing is close" do
      message = error!(zzz: 1)
      refute message =~ "Did you mean"
      assert message =~ ":binary_name"
    end
  end

  describe "the option table" do
    test "README's Configuration table is the one it generates" do
      readme = File.read!(Path.expand("../../README.md", __DIR__))
      [_, section] = String.split(readme, "\n## Configuration\n", parts: 2)

      table =
        section
        |> String.split("\n")
        |> Enum.drop_while(&(not String.starts_with?(&1, "|")))
        |> Enum.take_while(&String.starts_with?(&1, "|"))
        |> Enum.map_join(&(&1 <> "\n"))

      assert table == Config.table(), """
      README.md's options table differs from Batamanta.Config's option table; replace it with
      the output of `mix run -e 'IO.write Batamanta.Config.table()'`
      """
    end

    test "every option has a flag that mix help batamanta documents" do
      doc = Config.doc()
      {:docs_v1, _, _, _, %{"en" => moduledoc}, _, _} = Code.fetch_docs(Mix.Tasks.Batamanta)

      for option <- Config.options() do
        assert doc =~ "`#{option.flag_name}`"
        assert moduledoc =~ "`#{option.flag_name}`"
      end
    end

    test "names an invalid value's option, flag and environment variable once" do
      message = error!(erts_source: "mirror.example")

      assert message ==
               ~s{invalid erts_source "mirror.example" (option erts_source: / --erts-source / } <>
                 "BATAMANTA_ERTS_SOURCE): it must be :host (this machine's runtime) or an " <>
                 "http://, https:// or file:// base URL"

      assert error!([], ~w(--mode gui)) ==
               ~s{invalid execution_mode "gui" (option execution_mode: / --mode): } <>
                 "valid values are :cli, :tui, :daemon"
    end

    test "a boolean flag is named as it is given" do
      assert error!(show_banner: 1) =~ "(option show_banner: / --no-banner)"
    end

    test "a flag-only option is not a mix.exs key" do
      assert error!(quiet: true) =~ "unknown batamanta option :quiet"
    end
  end

  describe "escript format" do
    test "is chosen automatically when the project has escript: config" do
      project = @project ++ [escript: [main_module: Hello.CLI]]
      assert {:ok, config} = resolve([], [], %{}, project)
      assert config.format == :escript
      assert config.escript_module == Hello.CLI
    end

    test "is not chosen when format is given" do
      project = @project ++ [escript: [main_module: Hello.CLI]]
      assert {:ok, %{format: :release}} = resolve([format: :release], [], %{}, project)
      assert {:ok, %{format: :release}} = resolve([], ~w(--format release), %{}, project)
    end

    test "accepts --escript-module" do
      assert {:ok, config} = resolve([], ~w(--format escript --escript-module Hello.Main))
      assert config.escript_module == Hello.Main
    end

    test "escript: config without main_module is an error" do
      project = @project ++ [escript: [name: "x"]]
      assert {:error, message} = resolve([], [], %{}, project)
      assert message =~ "main_module"
    end
  end
end
