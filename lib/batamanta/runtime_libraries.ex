defmodule Batamanta.RuntimeLibraries do
  @moduledoc """
  Checks that the prebuilt helper's shared libraries load on this machine.

  The helper links the Swift runtime statically, and libcurl and libzstd from the
  system. A source build finds them when it links; a prebuilt helper would otherwise
  fail only later, in the middle of `mix batamanta`, with the loader's message. The
  check asks the dynamic loader itself (`ldd`), so a missing library and a too-old
  glibc are both caught.
  """

  # soname => the Debian/Ubuntu package that provides it.
  @packages %{
    "libcurl.so.4" => "libcurl4 (libcurl4t64 on Ubuntu 24.04 and later)",
    "libzstd.so.1" => "libzstd1",
    "libc.so.6" => "libc6",
    "libm.so.6" => "libc6"
  }

  @doc """
  Raises a `Mix.Error` naming each missing library and its package, or the glibc
  version the helper needs. Does nothing where there is no `ldd` (a non-glibc host,
  which no artifact is built for).
  """
  @spec check!(Path.t()) :: :ok
  def check!(executable) do
    with ldd when is_binary(ldd) <- System.find_executable("ldd"),
         {output, _status} <- System.cmd(ldd, [executable], stderr_to_stdout: true),
         [_ | _] = problems <- problems(output) do
      Mix.raise("""
      batamanta's prebuilt helper #{executable} cannot run on this machine:

      #{Enum.map_join(problems, "\n", &"    #{&1}")}

      Install the missing packages (apt-get install ...), or build batamanta from source
      with BATAMANTA_BUILD_FROM_SOURCE=1 (needs Swift 6).
      """)
    else
      _ -> :ok
    end
  end

  @doc false
  def problems(ldd_output) do
    missing =
      for [soname] <- Regex.scan(~r/^\s*(\S+) => not found/m, ldd_output, capture: :all_but_first) do
        "#{soname} is missing: install #{Map.get(@packages, soname, "the package that provides it")}"
      end

    versions =
      for [version] <-
            Regex.scan(~r/version `([^']+)' not found/, ldd_output, capture: :all_but_first),
          uniq: true do
        "#{version} is not available: this system's libc is older than the build machine's"
      end

    missing ++ versions
  end
end
