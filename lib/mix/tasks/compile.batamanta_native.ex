defmodule Mix.Tasks.Compile.BatamantaNative do
  @shortdoc "Installs or builds batamanta's Swift helper and dispensers"

  @moduledoc """
  Places the Swift products batamanta needs in `priv/bin/`:

    * `batamanta-native`: the build helper `Batamanta.Native` talks to over a port;
    * `batamanta-dispenser`, `batamanta-dispenser-tui`, `batamanta-dispenser-daemon`: the
      runtime wrapper that becomes the head of every binary, one per execution mode so
      none carries code it never runs;
    * on x86_64, the same three dispensers for aarch64 (`<product>-aarch64-linux`), when
      `Batamanta.Dispenser.Cross` has its inputs.

  A released batamanta carries them prebuilt for each supported build host
  (`Batamanta.NativeArtifacts` describes the layout). When the package has them for this
  machine's host triple and every file matches its sha256 in `priv/native/MANIFEST`,
  they are copied into `priv/bin/`, which takes milliseconds and needs no Swift. Their
  runtime libraries (libcurl, libzstd) are checked then, naming the package that
  provides a missing one.

  Otherwise it builds them from source: `swift build -c release` in batamanta's own
  directory (never the user's project), the way `elixir_make` builds NIFs, streaming
  SwiftPM's output, then the cross build; a quiet step still prints a line every 10 s. That happens in a source checkout, on a host the package has no
  artifacts for, when an artifact does not match its checksum (the error names the file;
  without Swift the build stops there), or when asked for:

      BATAMANTA_BUILD_FROM_SOURCE=1 mix deps.compile batamanta

  or, in the project's `config/config.exs`, `config :batamanta, build_from_source: true`.
  A source build reruns only when `Package.swift`, a file under `Sources/`,
  `scripts/zstd-decoder` or this compiler changed since the last one.

  Environment:

    * `BATAMANTA_BUILD_FROM_SOURCE` - `1` builds from source even when artifacts fit;
    * `SWIFT` - the swift executable to use (default: `swift` on `PATH`);
    * `BATAMANTA_SWIFT_SCRATCH` - SwiftPM's scratch directory (default: `.build`).
  """

  use Mix.Task.Compiler

  alias Batamanta.{NativeArtifacts, RuntimeLibraries}
  alias Batamanta.Dispenser.Cross

  @root Path.expand("../../..", __DIR__)
  @products [
    "batamanta-native",
    "batamanta-dispenser",
    "batamanta-dispenser-tui",
    "batamanta-dispenser-daemon"
  ]
  # SwiftPM's output is streamed as it comes, and a quiet step (one large module can
  # take a minute, the cross build has no output) still gets a line every @heartbeat_ms,
  # so a build is never silent.
  @heartbeat_ms 10_000
  # Says whether priv/bin/ holds prebuilt artifacts or a source build, so that asking
  # for the other one replaces it.
  @origin_stamp ".origin"

  @impl true
  def run(_args) do
    origin = origin()

    if stale?(origin) do
      install(origin)
      {:ok, []}
    else
      {:noop, []}
    end
  end

  @impl true
  def clean do
    outputs = Enum.map([@origin_stamp | @products], &output_path/1) ++ Cross.outputs()
    Enum.each(outputs, &File.rm/1)
  end

  @doc false
  def root, do: @root

  @doc """
  The files a source build on this machine places in `priv/bin/`, which a release ships
  prebuilt: the SwiftPM products, and the cross-built dispensers when their inputs are
  here.
  """
  def source_outputs do
    swiftpm = Enum.map(@products, &output_path/1)
    if Cross.missing_inputs() == [], do: swiftpm ++ Cross.outputs(), else: swiftpm
  end

  @doc "Where the compiled product `name` is placed."
  def output_path(name), do: Path.join([@root, "priv", "bin", name])

  # Where priv/bin/ comes from: the package's prebuilt artifacts for this host, checked
  # against MANIFEST, or a Swift build of the sources (with the reason, for the output).
  defp origin do
    triple = NativeArtifacts.host_triple()

    if asked = from_source_request() do
      {:source, "asked for by #{asked}"}
    else
      case NativeArtifacts.for_host(@root, triple) do
        {:ok, entries} -> {:prebuilt, triple, entries}
        {:error, []} -> {:source, "a source checkout: it has no #{manifest()}"}
        {:error, hosts} -> {:source, no_artifact(triple, hosts)}
      end
    end
  end

  defp from_source_request do
    env = System.get_env("BATAMANTA_BUILD_FROM_SOURCE")

    cond do
      env not in [nil, "", "0", "false"] ->
        "BATAMANTA_BUILD_FROM_SOURCE=#{env}"

      Application.get_env(:batamanta, :build_from_source) == true ->
        "config :batamanta, build_from_source: true"

      true ->
        nil
    end
  end

  defp manifest, do: Path.relative_to(NativeArtifacts.manifest_path(@root), @root)

  defp no_artifact(triple, hosts) do
    "batamanta's package has no prebuilt helper for this machine's host triple #{triple} " <>
      "(it has #{Enum.join(hosts, ", ")})"
  end

  defp stale?({:prebuilt, triple, entries}) do
    inputs = [NativeArtifacts.manifest_path(@root), __ENV__.file | Enum.map(entries, & &1.path)]
    outputs = Enum.map(entries, &output_path(&1.name))
    stamp() != "prebuilt #{triple}" or newer?(inputs, outputs)
  end

  defp stale?({:source, _why}) do
    inputs = [
      Path.join(@root, "Package.swift"),
      Path.join(@root, "scripts/zstd-decoder"),
      __ENV__.file | Path.wildcard(Path.join(@root, "Sources/**"))
    ]

    stamp() != "source" or newer?(inputs, source_outputs())
  end

  defp stamp do
    case File.read(output_path(@origin_stamp)) do
      {:ok, stamp} -> stamp
      {:error, _} -> nil
    end
  end

  defp write_stamp(stamp), do: File.write!(output_path(@origin_stamp), stamp)

  defp newer?(inputs, outputs) do
    newest_input = inputs |> Enum.map(&mtime/1) |> Enum.max(fn -> 0 end)

    Enum.any?(outputs, fn output ->
      case mtime(output) do
        0 -> true
        built -> built < newest_input
      end
    end)
  end

  defp mtime(path) do
    case File.stat(path, time: :posix) do
      {:ok, %File.Stat{type: :regular, mtime: mtime}} -> mtime
      _ -> 0
    end
  end

  defp install({:prebuilt, triple, entries}) do
    started = System.monotonic_time(:millisecond)

    case NativeArtifacts.verify(entries) do
      :ok ->
        File.mkdir_p!(Path.join(@root, "priv/bin"))
        Enum.each(entries, &copy_executable(&1.path, output_path(&1.name)))
        RuntimeLibraries.check!(output_path("batamanta-native"))
        write_stamp("prebuilt #{triple}")
        elapsed = System.monotonic_time(:millisecond) - started

        Mix.shell().info(
          "Installed batamanta's prebuilt helper and #{length(entries) - 1} dispensers " <>
            "for #{triple} (#{elapsed} ms)"
        )

      {:error, message} ->
        swift = swift_executable(System.get_env(), message)
        Mix.shell().error("#{message}; building from source instead")
        build(swift, message)
    end
  end

  defp install({:source, why}), do: build(swift_executable(System.get_env(), why), why)

  defp build(swift, why) do
    started = System.monotonic_time(:millisecond)
    bin_dir = Path.join(@root, "priv/bin")
    File.mkdir_p!(bin_dir)
    File.rm(output_path(@origin_stamp))
    Mix.shell().info("Building batamanta's Swift helper and dispensers from source (#{why})")
    build_zstd_decoder()

    for product <- @products do
      swift_build(swift, product)
      install_product(product, Path.join(bin_dir, product))
    end

    cross_build()

    write_stamp("source")
    elapsed = System.monotonic_time(:millisecond) - started
    Mix.shell().info("Compiled batamanta-native and the dispensers (#{elapsed} ms)")
  end

  # The dispensers link libzstd's decoder alone, which scripts/zstd-decoder builds from
  # Debian's source (fetched once per machine) for both arches; it is a no-op when the
  # archives are current. SwiftPM does not see the archive as an input of the link, so
  # a dispenser linked before it is removed for SwiftPM to link again.
  defp build_zstd_decoder do
    script = Path.join(@root, "scripts/zstd-decoder")

    case System.cmd(script, [], stderr_to_stdout: true) do
      {_output, 0} -> :ok
      {output, status} -> Mix.raise("#{script} failed with exit status #{status}:\n#{output}")
    end

    archives = Path.wildcard(Path.join(@root, ".build-cross/zstd/*/libzstd.a"))
    dispensers = Enum.map(List.delete(@products, "batamanta-native"), &Path.join(build_dir(), &1))
    for dispenser <- dispensers, newer?(archives, [dispenser]), do: File.rm(dispenser)
  end

  # The other arch's dispensers, when this machine has their inputs (scripts/install-deps
  # fetches them); without them a build for that arch says what is missing.
  defp cross_build do
    if Cross.missing_inputs() == [] and Cross.outputs() != [] do
      Mix.shell().info("==> cross-building the #{Cross.arch()} dispensers")
      started = System.monotonic_time(:millisecond)
      task = Task.async(&Cross.build/0)
      label = "the #{Cross.arch()} dispensers"
      with {:error, message} <- await(task, label, started), do: Mix.raise(message)
      elapsed = System.monotonic_time(:millisecond) - started
      Mix.shell().info("Compiled the #{Cross.arch()} dispensers (#{elapsed} ms)")
    end
  end

  defp await(task, label, started) do
    case Task.yield(task, @heartbeat_ms) do
      {:ok, result} ->
        result

      nil ->
        heartbeat(label, started)
        await(task, label, started)
    end
  end

  # `why` is the reason for building from source, which the error repeats: without it,
  # a user who expected the prebuilt artifacts could not tell why they were not used.
  @doc false
  def swift_executable(env, why \\ "this is a source checkout") do
    case env["SWIFT"] do
      nil ->
        find_executable("swift", env) || missing_swift("`swift` is not on PATH", why)

      "" ->
        missing_swift("SWIFT is set but empty", why)

      path ->
        find_executable(path, env) || missing_swift("SWIFT=#{path} is not an executable", why)
    end
  end

  defp find_executable(name, env) do
    case :os.find_executable(String.to_charlist(name), String.to_charlist(env["PATH"] || "")) do
      false -> nil
      path -> List.to_string(path)
    end
  end

  defp missing_swift(no_swift, why) do
    Mix.raise("""
    batamanta must build its helper and dispensers from source: #{why}.
    That needs a Swift 6 toolchain, but #{no_swift}.

    Install one from https://www.swift.org/install/ (Linux: unpack the tarball, e.g. to
    /opt/swift) and put its usr/bin on PATH, or point SWIFT at the executable:

        SWIFT=/opt/swift/usr/bin/swift mix compile
    """)
  end

  defp swift_build(swift, product) do
    args =
      ["build", "-c", "release", "--product", product] ++ scratch_args() ++ erl_interface_args()

    Mix.shell().info("==> swift build --product #{product}")

    port =
      Port.open({:spawn_executable, swift}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        {:line, 4096},
        args: args,
        cd: @root
      ])

    case stream(port, product, System.monotonic_time(:millisecond), []) do
      {_output, 0} ->
        :ok

      {output, status} ->
        Mix.raise(
          "`swift #{Enum.join(args, " ")}` in #{@root} failed with exit status #{status} " <>
            "while building #{product} (its output is above)" <> hint(output)
        )
    end
  end

  defp stream(port, product, started, lines) do
    receive do
      {^port, {:data, {eol, line}}} ->
        if eol == :eol, do: Mix.shell().info("    " <> line)
        stream(port, product, started, [line | lines])

      {^port, {:exit_status, status}} ->
        {lines |> Enum.reverse() |> Enum.join("\n"), status}
    after
      @heartbeat_ms ->
        heartbeat(product, started)
        stream(port, product, started, lines)
    end
  end

  defp heartbeat(label, started) do
    seconds = div(System.monotonic_time(:millisecond) - started, 1000)
    Mix.shell().info("    still building #{label} (#{seconds} s)")
  end

  # The system packages a fresh machine most often lacks, recognized by what the
  # compiler says when their headers are missing.
  @doc false
  def hint(output) do
    cond do
      output =~ ~r/'(dirent|stdio|unistd)\.h' file not found/ ->
        ". The dispensers link musl statically: install musl-dev (apt-get install musl-dev)"

      output =~ ~r/'(ei|zstd|curl\/curl)\.h' file not found/ ->
        ". Install the build headers: apt-get install erlang-dev libzstd-dev libcurl4-openssl-dev"

      true ->
        ""
    end
  end

  @doc false
  def scratch_args(env \\ System.get_env()) do
    case env["BATAMANTA_SWIFT_SCRATCH"] do
      nil -> []
      "" -> []
      dir -> ["--scratch-path", Path.expand(dir, @root)]
    end
  end

  # libei ships only as a static library under the OTP root, and not every install
  # symlinks it into /usr; pointing at the running OTP finds it on all of them.
  defp erl_interface_args do
    erl_root = to_string(:code.root_dir())

    [
      "-Xcc",
      "-I#{Path.join(erl_root, "usr/include")}",
      "-Xlinker",
      "-L#{Path.join(erl_root, "usr/lib")}"
    ]
  end

  defp build_dir do
    case scratch_args() do
      [_, dir] -> Path.join(dir, "release")
      [] -> Path.join(@root, ".build/release")
    end
  end

  defp install_product(product, destination) do
    source = Path.join(build_dir(), product)

    unless File.regular?(source) do
      Mix.raise("swift build reported success but #{source} does not exist")
    end

    copy_executable(source, destination, &strip/1)
  end

  # Through a temporary file and a rename, so a binary being built never sees a
  # half-written helper or dispenser.
  defp copy_executable(source, destination, prepare \\ fn _ -> :ok end) do
    tmp = destination <> ".tmp"
    File.cp!(source, tmp)
    prepare.(tmp)
    File.chmod!(tmp, 0o755)
    File.rename!(tmp, destination)
  end

  # The dispenser is copied into every binary, and the helper into the package: their
  # symbols and debug info are dead weight there, and the debug info names build paths.
  defp strip(path) do
    case System.find_executable("strip") do
      nil -> :ok
      strip -> System.cmd(strip, [path], stderr_to_stdout: true)
    end
  end
end
