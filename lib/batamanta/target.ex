defmodule Batamanta.Target do
  @moduledoc """
  The platform a binary is built for: os, arch and libc, its triple
  (`x86_64-linux-gnu`, `aarch64-macos`, ...) and the suffix of the output name.

  `resolve/2` is pure: it takes the resolved `Batamanta.Config` and the host facts
  reported by the helper's `:host_info` command.
  """

  alias Batamanta.Config

  defstruct [:os, :arch, :libc, :triple, :suffix, host?: true]

  @type t :: %__MODULE__{
          os: :linux | :macos | :windows,
          arch: :x86_64 | :aarch64,
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
         libc_version: info[:libc_version],
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

      os == :windows and config.execution_mode == :tui ->
        {:error,
         "execution_mode: :tui is not available on Windows. Valid modes there: :cli, :daemon"}

      true ->
        :ok
    end
  end

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
