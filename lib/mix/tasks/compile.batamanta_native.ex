defmodule Mix.Tasks.Compile.BatamantaNative do
  @shortdoc "Builds batamanta's Swift helper and dispenser"

  @moduledoc """
  Builds the Swift products batamanta needs and places them in `priv/bin/`:

    * `batamanta-native`: the build helper `Batamanta.Native` talks to over a port;
    * `batamanta-dispenser`, `batamanta-dispenser-tui`, `batamanta-dispenser-daemon`: the
      runtime wrapper that becomes the head of every binary, one per execution mode so
      none carries code it never runs.

  It runs `swift build -c release` in batamanta's own directory (never the user's
  project), the way `elixir_make` builds NIFs, and only when `Package.swift`, a file
  under `Sources/` or this compiler changed since the last build.

  Environment:

    * `SWIFT` - the swift executable to use (default: `swift` on `PATH`);
    * `BATAMANTA_SWIFT_SCRATCH` - SwiftPM's scratch directory (default: `.build`).
  """

  use Mix.Task.Compiler

  @root Path.expand("../../..", __DIR__)
  @products [
    "batamanta-native",
    "batamanta-dispenser",
    "batamanta-dispenser-tui",
    "batamanta-dispenser-daemon"
  ]

  @impl true
  def run(_args) do
    outputs = Enum.map(@products, &output_path/1)

    if stale?(inputs(), outputs) do
      build()
      {:ok, []}
    else
      {:noop, []}
    end
  end

  @impl true
  def clean do
    Enum.each(@products, &File.rm(output_path(&1)))
  end

  @doc false
  def root, do: @root

  @doc "Where the compiled product `name` is placed."
  def output_path(name), do: Path.join([@root, "priv", "bin", name])

  defp inputs do
    [
      Path.join(@root, "Package.swift"),
      __ENV__.file | Path.wildcard(Path.join(@root, "Sources/**"))
    ]
  end

  defp stale?(inputs, outputs) do
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

  defp build do
    env = System.get_env()
    swift = swift_executable(env)
    started = System.monotonic_time(:millisecond)
    bin_dir = Path.join(@root, "priv/bin")
    File.mkdir_p!(bin_dir)

    for product <- @products do
      swift_build(swift, product, scratch_args(env))
      install(product, Path.join(bin_dir, product), scratch_args(env))
    end

    elapsed = System.monotonic_time(:millisecond) - started
    Mix.shell().info("Compiled batamanta-native and the dispensers (#{elapsed} ms)")
  end

  @doc false
  def swift_executable(env) do
    case env["SWIFT"] do
      nil -> find_executable("swift", env) || missing_swift("`swift` is not on PATH")
      "" -> missing_swift("SWIFT is set but empty")
      path -> find_executable(path, env) || missing_swift("SWIFT=#{path} is not an executable")
    end
  end

  defp find_executable(name, env) do
    case :os.find_executable(String.to_charlist(name), String.to_charlist(env["PATH"] || "")) do
      false -> nil
      path -> List.to_string(path)
    end
  end

  defp missing_swift(why) do
    Mix.raise("""
    batamanta needs a Swift 6 toolchain to build its helper and dispenser, but #{why}.

    Install one from https://www.swift.org/install/ (Linux: unpack the tarball, e.g. to
    /opt/swift) and put its usr/bin on PATH, or point SWIFT at the executable:

        SWIFT=/opt/swift/usr/bin/swift mix compile
    """)
  end

  defp swift_build(swift, product, scratch_args) do
    args =
      ["build", "-c", "release", "--product", product] ++ scratch_args ++ erl_interface_args()

    case System.cmd(swift, args, cd: @root, stderr_to_stdout: true) do
      {_output, 0} ->
        :ok

      {output, status} ->
        Mix.shell().error(output)

        Mix.raise(
          "`swift #{Enum.join(args, " ")}` in #{@root} failed with exit status #{status} " <>
            "while building #{product} (its output is above)" <> hint(output)
        )
    end
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
  def scratch_args(env) do
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

  defp build_dir(scratch_args) do
    case scratch_args do
      [_, dir] -> Path.join(dir, "release")
      [] -> Path.join(@root, ".build/release")
    end
  end

  defp install(product, destination, scratch_args) do
    source = Path.join(build_dir(scratch_args), product)

    unless File.regular?(source) do
      Mix.raise("swift build reported success but #{source} does not exist")
    end

    tmp = destination <> ".tmp"
    File.cp!(source, tmp)
    if String.starts_with?(product, "batamanta-dispenser"), do: strip(tmp)
    File.chmod!(tmp, 0o755)
    File.rename!(tmp, destination)
  end

  # The dispenser is copied into every binary; its symbols are dead weight there.
  defp strip(path) do
    case System.find_executable("strip") do
      nil -> :ok
      strip -> System.cmd(strip, [path], stderr_to_stdout: true)
    end
  end
end
