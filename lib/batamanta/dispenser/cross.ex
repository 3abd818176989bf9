defmodule Batamanta.Dispenser.Cross do
  @moduledoc """
  Builds the dispensers for aarch64 Linux on an x86_64 machine, without SwiftPM.

  Swift ships an Embedded stdlib for `aarch64-none-none-elf` but none for
  `aarch64-unknown-linux-*`, so each dispenser's sources (the directory SwiftPM builds,
  with its `Core` and `Format` symlinks) are compiled to one bare-metal object against
  aarch64 musl headers, the C shims with the toolchain's clang, and all of it is linked
  by the toolchain's clang and lld, statically, against Debian's arm64 musl and libgcc
  (musl's printf needs its 128-bit long double routines) and libzstd's decoder, which
  `scripts/zstd-decoder` builds from source. No aarch64 gcc or binutils are involved.

  The arm64 packages are unpacked (never installed) into a sysroot, by default
  `.build-cross/aarch64-linux/sysroot` in batamanta's directory, which
  `scripts/install-deps` fills; `BATAMANTA_AARCH64_SYSROOT` points elsewhere. The output
  is `priv/bin/<product>-aarch64-linux`: one dispenser serves both aarch64 triples, as
  the host's serves both of its own.
  """

  alias Mix.Tasks.Compile.BatamantaNative

  @arch :aarch64
  @targets %{
    "batamanta-dispenser" => "Dispenser",
    "batamanta-dispenser-tui" => "DispenserTUI",
    "batamanta-dispenser-daemon" => "DispenserDaemon"
  }

  # Each file the link reads, and the Debian arm64 package it comes from.
  @sysroot_inputs [
    {"usr/include/aarch64-linux-musl/stdio.h", "musl-dev:arm64"},
    {"usr/lib/aarch64-linux-musl/libc.a", "musl-dev:arm64"},
    {"usr/include/zstd.h", "libzstd-dev:arm64"},
    {"usr/lib/gcc/aarch64-linux-gnu/12/libgcc.a", "libgcc-12-dev:arm64"}
  ]

  @doc "The arch this module builds dispensers for."
  def arch, do: @arch

  @doc "The name of `product` built for the cross arch, in `priv/bin/`."
  @spec output_name(String.t()) :: String.t()
  def output_name(product), do: "#{product}-#{@arch}-linux"

  @doc "The dispensers `build/0` writes; none on an aarch64 machine, where SwiftPM builds them."
  @spec outputs() :: [Path.t()]
  def outputs do
    if to_string(:erlang.system_info(:system_architecture)) =~ ~r/^(aarch64|arm64)/,
      do: [],
      else: Enum.map(Map.keys(@targets), &BatamantaNative.output_path(output_name(&1)))
  end

  @doc "The sysroot holding the arm64 packages."
  @spec sysroot() :: Path.t()
  def sysroot do
    case System.get_env("BATAMANTA_AARCH64_SYSROOT") do
      dir when dir in [nil, ""] ->
        Path.join(BatamantaNative.root(), ".build-cross/aarch64-linux/sysroot")

      dir ->
        Path.expand(dir)
    end
  end

  @doc """
  What the build lacks: `{file, debian_package}` for the sysroot's files, `{tool,
  :toolchain}` for the Swift toolchain's `swiftc`, `clang` and `llvm-objcopy`.
  """
  @spec missing_inputs() :: [{Path.t(), String.t() | :toolchain}]
  def missing_inputs do
    files =
      for {file, package} <- @sysroot_inputs,
          path = Path.join(sysroot(), file),
          not File.regular?(path),
          do: {path, package}

    tools = for tool <- ~w(swiftc clang llvm-objcopy), is_nil(tool(tool)), do: {tool, :toolchain}
    files ++ tools
  end

  @doc """
  Says what is missing and how to get it, for a message that ends with it.
  """
  @spec explain_missing([{Path.t(), String.t() | :toolchain}]) :: String.t()
  def explain_missing(missing) do
    {tools, files} = Enum.split_with(missing, &(elem(&1, 1) == :toolchain))

    [
      "missing: " <> Enum.map_join(missing, ", ", &elem(&1, 0)),
      fetch_hint(files),
      tools_hint(tools)
    ]
    |> Enum.reject(&is_nil/1)
    |> Enum.join(". ")
  end

  defp tools_hint([]), do: nil
  defp tools_hint(_tools), do: "Put the Swift 6 toolchain's usr/bin on PATH"

  defp fetch_hint([]), do: nil

  defp fetch_hint(files) do
    packages = files |> Enum.map(&elem(&1, 1)) |> Enum.uniq() |> Enum.join(" ")

    "In batamanta's directory `scripts/install-deps` fetches them; by hand: " <>
      "`dpkg --add-architecture arm64 && apt-get update`, then `apt-get download " <>
      "#{packages}` and `dpkg -x` each into #{sysroot()} (or set BATAMANTA_AARCH64_SYSROOT)"
  end

  @doc """
  Compiles and links the three aarch64 dispensers into `priv/bin/`.
  """
  @spec build() :: :ok | {:error, String.t()}
  def build do
    case missing_inputs() do
      [] ->
        work = Path.join(BatamantaNative.root(), ".build-cross/aarch64-linux/obj")
        File.rm_rf!(work)
        File.mkdir_p!(work)

        with {:ok, shims} <- compile_shims(work) do
          @targets
          |> Task.async_stream(&build_product(&1, shims, work), timeout: :infinity)
          |> Enum.find_value(:ok, fn {:ok, result} -> if result != :ok, do: result end)
        end

      missing ->
        {:error, "the aarch64 dispensers cannot be built: " <> explain_missing(missing)}
    end
  end

  defp build_product({product, target}, shims, work) do
    object = Path.join(work, "#{target}.o")
    linked = Path.join(work, product)
    destination = BatamantaNative.output_path(output_name(product))

    with :ok <- compile_swift(target, object, work),
         :ok <- link([object | shims], linked),
         :ok <- run("llvm-objcopy", ["--strip-all", linked]) do
      File.mkdir_p!(Path.dirname(destination))
      File.rename!(linked, destination)
      :ok
    end
  end

  defp header_args do
    ["-nostdlibinc", "-isystem", sysroot_path("usr/include/aarch64-linux-musl")] ++
      ["-isystem", sysroot_path("usr/include")]
  end

  # The C targets the dispensers import, compiled here for aarch64 as SwiftPM compiles
  # them for this machine.
  @c_targets ~w(CLibc CSHA256)

  # SwiftPM's module maps, rewritten for a build outside it: each C target's is generated
  # from its include directory, CZstd's is the system-library map next to its shim.
  defp module_map_args(work) do
    Enum.flat_map(@c_targets, fn target ->
      dir = Path.join(work, target)
      File.mkdir_p!(dir)

      File.write!(Path.join(dir, "module.modulemap"), """
      module #{target} {
          umbrella "#{sources(target <> "/include")}"
          export *
      }
      """)

      ["-I", dir]
    end) ++ ["-I", sources("CZstd")]
  end

  defp compile_swift(target, object, work) do
    files = Path.wildcard(Path.join(sources(target), "**/*.swift"))
    cc = Enum.flat_map(header_args(), &["-Xcc", &1])

    args =
      ["-target", "aarch64-none-none-elf", "-enable-experimental-feature", "Embedded"] ++
        ["-wmo", "-Osize", "-c", "-module-name", target, "-o", object] ++
        reproducible_swift_args() ++
        ["-module-cache-path", Path.join([work, target, "module-cache"])] ++
        cc ++ module_map_args(Path.join(work, target)) ++ files

    run("swiftc", args)
  end

  # The dispensers ship prebuilt and must be the same bytes from any checkout, as
  # Package.swift's `reproducible` settings make the SwiftPM-built ones: the checkout's
  # path is mapped to "." and Swift's incremental-codegen module hash, which covers it,
  # is off. Each product also gets a clang module cache of its own, emptied with the
  # work directory, rather than the user's shared one, which the other products'
  # compiles and earlier builds write to.
  defp reproducible_swift_args do
    ["-file-prefix-map", "#{BatamantaNative.root()}=.", "-Xcc", prefix_map()] ++
      ["-Xfrontend", "-disable-incremental-llvm-codegen"]
  end

  defp prefix_map, do: "-ffile-prefix-map=#{BatamantaNative.root()}=."

  defp compile_shims(work) do
    @c_targets
    |> Enum.flat_map(fn target ->
      Enum.map(Path.wildcard(sources(target <> "/*.c")), &{target, &1})
    end)
    |> Enum.reduce_while({:ok, []}, fn {target, source}, {:ok, objects} ->
      object = Path.join(work, target <> "-" <> Path.basename(source, ".c") <> ".o")

      args =
        ["--target=aarch64-linux-musl", "-Os", "-ffunction-sections", "-fdata-sections"] ++
          [prefix_map()] ++
          header_args() ++ ["-I", sources(target <> "/include"), "-c", source, "-o", object]

      case run("clang", args) do
        :ok -> {:cont, {:ok, [object | objects]}}
        error -> {:halt, error}
      end
    end)
  end

  defp link(objects, output) do
    musl = sysroot_path("usr/lib/aarch64-linux-musl")

    args =
      ["--target=aarch64-linux-musl", "-fuse-ld=lld", "-static", "-nostdlib", "-o", output] ++
        [Path.join(musl, "crt1.o"), Path.join(musl, "crti.o")] ++
        objects ++
        [zstd_decoder(), "-L#{musl}", "-lm", "-lc"] ++
        [sysroot_path("usr/lib/gcc/aarch64-linux-gnu/12/libgcc.a"), Path.join(musl, "crtn.o")] ++
        ["-Wl,--gc-sections"]

    run("clang", args)
  end

  # libzstd's decoder alone, which scripts/zstd-decoder builds from Debian's source for
  # both arches (Mix.Tasks.Compile.BatamantaNative runs it first).
  defp zstd_decoder,
    do: Path.join(BatamantaNative.root(), ".build-cross/zstd/aarch64-linux-musl/libzstd.a")

  defp run(tool, args) do
    case System.cmd(tool(tool), args, stderr_to_stdout: true) do
      {_output, 0} ->
        :ok

      {output, status} ->
        {:error,
         "`#{tool} #{Enum.join(args, " ")}` failed with exit status #{status} while building " <>
           "the aarch64 dispensers:\n#{output}"}
    end
  end

  # The toolchain's own clang: a system clang may lack the aarch64 target or lld.
  defp tool(name) do
    swift_bin =
      case System.find_executable("swiftc") do
        nil -> "/opt/swift/usr/bin"
        swiftc -> Path.dirname(swiftc)
      end

    candidate = Path.join(swift_bin, name)
    if File.regular?(candidate), do: candidate, else: System.find_executable(name)
  end

  defp sources(path), do: Path.join([BatamantaNative.root(), "Sources", path])
  defp sysroot_path(path), do: Path.join(sysroot(), path)
end
