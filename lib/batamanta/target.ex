defmodule Batamanta.Target do
  @moduledoc """
  The platform a binary is built for: os, arch and libc, its triple
  (`x86_64-linux-gnu`, `aarch64-macos`, ...) and the suffix of the output name.

  `resolve/2` is pure: it takes the resolved `Batamanta.Config` and the host facts
  reported by the helper's `:host_info` command.
  """

  alias Batamanta.Config

  defstruct [:os, :arch, :libc, :triple, :suffix, host?: true]

  @type arch :: :x86_64 | :aarch64

  @type t :: %__MODULE__{
          os: :linux | :macos | :windows,
          arch: arch(),
          libc: :gnu | :musl | nil,
          triple: String.t(),
          suffix: String.t(),
          host?: boolean()
        }

  @named %{
    ubuntu_22_04_x86_64: {:linux, :x86_64, :gnu},
    ubuntu_22_04_arm64: {:linux, :aarch64, :gnu},
    alpine_3_19_x86_64: {:linux, :x86_64, :musl},
    alpine_3_19_arm64: {:linux, :aarch64, :musl},
    macos_12_x86_64: {:macos, :x86_64, nil},
    macos_12_arm64: {:macos, :aarch64, nil},
    windows_x86_64: {:windows, :x86_64, nil}
  }

  @doc """
  Asks the helper for the host's os, arch and libc.
  """
  @spec host(Batamanta.Native.t()) :: {:ok, map()} | Batamanta.Native.error()
  def host(native) do
    with {:ok, info} <- Batamanta.Native.request(native, :host_info, %{}) do
      os = normalize_os(info.os)

      {:ok,
       %{
         os: os,
         arch: normalize_arch(info.arch),
         libc: if(os == :linux, do: normalize_libc(info.libc)),
         note: info[:note]
       }}
    end
  end

  @doc """
  Resolves the target from `erts_target` and the `force_*` options over the host.
  """
  @spec resolve(Config.t(), map()) :: {:ok, t()} | {:error, String.t()}
  def resolve(%Config{} = config, host) do
    {os, arch, libc} =
      case config.erts_target do
        :auto -> {host.os, host.arch, host.libc}
        name -> Map.fetch!(@named, name)
      end

    os = config.force_os || os
    arch = config.force_arch || arch
    libc = if os == :linux, do: config.force_libc || libc || :gnu, else: config.force_libc

    with :ok <- check_combination(config, os, arch, libc) do
      target = %__MODULE__{
        os: os,
        arch: arch,
        libc: libc,
        triple: triple(os, arch, libc),
        suffix: suffix(os, arch, libc),
        host?: {os, arch, libc} == {host.os, host.arch, host.libc}
      }

      {:ok, target}
    end
  end

  defp check_combination(config, os, arch, libc) do
    cond do
      os != :linux and libc != nil ->
        {:error,
         "force_libc: #{inspect(libc)} (--force-libc) applies to Linux only, but the target os " <>
           "is #{inspect(os)}. Remove force_libc, or target Linux (valid libc values: :gnu, :musl)"}

      os == :windows and arch != :x86_64 ->
        {:error,
         "Windows binaries are built for :x86_64 only, but force_arch is #{inspect(arch)}. " <>
           "Valid combination: erts_target: :windows_x86_64"}

      os == :windows and config.execution_mode in [:tui, :daemon] ->
        {:error,
         "execution_mode: #{inspect(config.execution_mode)} (--mode) needs a Unix target " <>
           "(terminal raw mode, setsid and signals), so it is not available on Windows. " <>
           "Valid mode there: :cli"}

      true ->
        :ok
    end
  end

  @doc """
  A warning when the target's libc differs from the host's and nobody asked for it.

  A libc is explicit when `force_libc` names it or `erts_target` is a named target
  (`ubuntu_*` is glibc, `alpine_*` musl). Anything else that yields a libc different
  from the host's (`force_os: :linux` on a macOS host falls back to glibc, say) is a
  default the user may not have noticed, and it decides where the binary runs.
  """
  @spec libc_warning(Config.t(), t(), map()) :: String.t() | nil
  def libc_warning(%Config{} = config, %__MODULE__{os: :linux} = target, host) do
    if target.libc != host.libc and not explicit_libc?(config) do
      "target #{target.triple} uses #{libc_name(target.libc)}, but this machine " <>
        "#{host_libc(host)}, and nothing chose #{libc_name(target.libc)} explicitly (it is " <>
        "the default for Linux). The binary runs only where #{libc_name(target.libc)} is " <>
        "installed. Set force_libc: (--force-libc) :gnu or :musl, or an erts_target: such " <>
        "as :ubuntu_22_04_x86_64 or :alpine_3_19_x86_64, to choose"
    end
  end

  def libc_warning(%Config{}, %__MODULE__{}, _host), do: nil

  @doc """
  A warning when the staged runtime's libc requirement (`Batamanta.LaunchSpec.libc/1`)
  is not the target's: a mirror that serves a glibc OTP under a musl triple (or the
  reverse) builds a binary that will not start where it is meant to.
  """
  @spec runtime_libc_warning(t(), String.t()) :: String.t() | nil
  def runtime_libc_warning(%__MODULE__{os: :linux, libc: libc} = target, requirement) do
    needed = requirement |> String.split() |> hd()

    if needed in ["gnu", "musl"] and needed != to_string(libc) do
      "the runtime staged for #{target.triple} needs #{requirement}, not " <>
        "#{libc_name(libc)}: the OTP build it came from is not a #{target.triple} build, and " <>
        "the binary will not start on a #{libc_name(libc)} system. Check erts_source: " <>
        "(--erts-source)"
    end
  end

  def runtime_libc_warning(%__MODULE__{}, _requirement), do: nil

  defp explicit_libc?(%Config{force_libc: libc}) when libc != nil, do: true
  defp explicit_libc?(%Config{erts_target: :auto}), do: false
  defp explicit_libc?(%Config{erts_target: name}), do: elem(Map.fetch!(@named, name), 2) != nil

  defp host_libc(%{libc: nil, os: os}), do: "(#{os}) has no Linux libc"
  defp host_libc(%{libc: libc}), do: "uses #{libc_name(libc)}"

  defp libc_name(:gnu), do: "glibc"
  defp libc_name(:musl), do: "musl"

  @doc "The triple naming a target everywhere (cache dirs, metadata, ERTS mirrors)."
  def triple(:linux, arch, libc), do: "#{arch}-linux-#{libc}"
  def triple(os, arch, _libc), do: "#{arch}-#{os}"

  @doc "The suffix of the output file name."
  def suffix(:linux, arch, :gnu), do: "-#{arch}-linux"
  def suffix(:linux, arch, :musl), do: "-#{arch}-linux-musl"
  def suffix(:windows, arch, _), do: "-#{arch}-windows.exe"
  def suffix(os, arch, _), do: "-#{arch}-#{os}"

  defp normalize_os(os) do
    case String.downcase(to_string(os)) do
      "darwin" -> :macos
      "macos" -> :macos
      "windows" -> :windows
      _ -> :linux
    end
  end

  defp normalize_arch(arch) do
    case String.downcase(to_string(arch)) do
      a when a in ["aarch64", "arm64"] -> :aarch64
      _ -> :x86_64
    end
  end

  defp normalize_libc("musl"), do: :musl
  defp normalize_libc(_), do: :gnu
end
