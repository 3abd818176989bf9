defmodule Batamanta.Dispenser do
  @moduledoc """
  Picks the dispenser, the launcher at the head of every binary, for a target.

  `mix compile` builds one dispenser per execution mode (`batamanta-dispenser` for
  `:cli`, `batamanta-dispenser-tui`, `batamanta-dispenser-daemon`) for the machine it
  runs on, linked fully static, so each runs on glibc and musl systems alike: they serve
  both Linux triples of this machine's arch. On x86_64 it also cross-builds them for
  aarch64 (`Batamanta.Dispenser.Cross`) as `priv/bin/<product>-aarch64-linux`, or does so
  the first time an aarch64 target asks, when its inputs are there. A Linux arch this
  machine cannot build for takes a dispenser built there, dropped in as
  `priv/bin/<product>-<arch>-linux`. macOS and Windows have none: the dispenser is
  Linux-only.
  """

  alias Batamanta.{Products, Target}
  alias Batamanta.Dispenser.Cross

  @elf_machine %{x86_64: 62, aarch64: 183}

  @doc """
  The dispenser for `mode` (`:cli`, `:tui`, `:daemon`: each has its own product) and
  `target`, on a host of arch `host_arch`.
  """
  @spec for_target(:cli | :tui | :daemon, Target.t(), Target.arch()) ::
          {:ok, Path.t()} | {:error, String.t()}
  def for_target(mode, %Target{os: :linux, arch: arch}, arch) do
    product = product(mode)
    built(product, Products.path(product))
  end

  def for_target(mode, %Target{os: :linux} = target, host_arch) do
    product = product(mode)
    name = "#{product}-#{target.arch}-linux"

    with {:error, tried} <- Products.path(name),
         {:error, tried} <- cross_build(target.arch, name, tried) do
      {:error, missing(product, target, host_arch, tried)}
    else
      {:ok, path} -> check_machine(path, product, target.arch)
      {:error, :cross, message} -> {:error, "target #{target.triple}: #{message}"}
    end
  end

  def for_target(_mode, %Target{} = target, _host_arch) do
    {:error,
     "target #{target.triple} (erts_target: / force_os:) cannot be built: the dispenser " <>
       "that starts every binary is Linux-only, so there is no #{target.os} binary to make. " <>
       "Choose a Linux target (:ubuntu_22_04_x86_64, :alpine_3_19_x86_64, ...) or remove " <>
       "erts_target/force_os to build for this machine. docs/PORTING.md lists what a " <>
       "#{target.os} dispenser has to replace and how one built there is plugged in"}
  end

  defp product(:cli), do: "batamanta-dispenser"
  defp product(mode), do: "batamanta-dispenser-#{mode}"

  defp built(_product, {:ok, path}), do: {:ok, path}

  defp built(product, {:error, tried}), do: {:error, Products.missing(product, tried)}

  # An arch Cross builds for, whose dispensers `mix compile` skipped: its inputs may have
  # arrived since, or be missing, which the message then names.
  defp cross_build(arch, name, tried) do
    if arch == Cross.arch() do
      Mix.shell().info("Building the #{arch} dispensers")

      case Cross.build() do
        :ok -> Products.path(name)
        {:error, message} -> {:error, :cross, message}
      end
    else
      {:error, tried}
    end
  end

  defp missing(product, target, host_arch, tried) do
    "target #{target.triple} needs a dispenser built for #{target.arch}, and this machine " <>
      "(#{host_arch}) cannot build one: the Swift toolchain has no Embedded stdlib to " <>
      "cross-compile it for #{target.arch} Linux here. Build " <>
      "#{product} on a #{target.arch} Linux machine (`swift build -c release --product " <>
      "#{product}` in batamanta) and copy it to #{List.last(tried)}, or run mix batamanta " <>
      "on a #{target.arch} machine. Looked at: #{Enum.join(tried, ", ")}"
  end

  # A dispenser dropped in by hand is the one file of the binary nobody else checks.
  defp check_machine(path, product, arch) do
    expected = Map.fetch!(@elf_machine, arch)

    case File.open(path, [:read, :binary], &IO.binread(&1, 20)) do
      {:ok, <<0x7F, "ELF", 2, 1, _::binary-size(12), ^expected::little-16>>} ->
        {:ok, path}

      _ ->
        {:error,
         "#{path} is not a 64-bit little-endian #{arch} ELF executable; replace it with a " <>
           "#{product} built for #{arch} Linux"}
    end
  end
end
