defmodule Batamanta.ERTS.Source do
  @moduledoc """
  Where OTP builds for a target come from, which versions exist there and which one a
  build uses.

  A source is a base URL in one of two layouts:

    * **batamanta's mirror layout** (`erts_source:`, `--erts-source` or
      `BATAMANTA_ERTS_SOURCE`):

          <base>/<triple>/SHA256SUMS            sha256sum lines for OTP-<version>.tar.gz
          <base>/<triple>/OTP-<version>.tar.gz

      `SHA256SUMS` is also the list of available versions.

    * **Hex's public OTP builds**, the default for `x86_64-linux-gnu` and
      `aarch64-linux-gnu` (built on Ubuntu 22.04):

          <hex>/<amd64|arm64>/ubuntu-22.04/builds.txt
          <hex>/<amd64|arm64>/ubuntu-22.04/OTP-<version>.tar.gz

      where `<hex>` is `https://builds.hex.pm/builds/otp`, or `$BATAMANTA_HEX_OTP_URL` for
      a copy of it. Each `builds.txt` line is `<ref> <git sha> <date> <sha256>`; refs
      that are not `OTP-<version>` (`maint`, `master`, ...) are skipped, and old lines
      without a checksum are listed but never installed.

  Everything here is pure; fetching is `Batamanta.ERTS`'s job.
  """

  alias Batamanta.Env

  defstruct [:layout, :base, :triple, :index_url]

  @type t :: %__MODULE__{
          layout: :mirror | :hex,
          base: String.t(),
          triple: String.t(),
          index_url: String.t()
        }

  @typedoc "Available versions mapped to their sha256 (nil when the index has none)."
  @type index :: %{String.t() => String.t() | nil}

  @hex_url "https://builds.hex.pm/builds/otp"
  @hex_arch %{"x86_64-linux-gnu" => "amd64", "aarch64-linux-gnu" => "arm64"}
  @version ~r/^\d+(\.\d+)*$/

  @doc """
  The source for `triple`: the configured `erts_source` (already merged with
  `BATAMANTA_ERTS_SOURCE` by `Batamanta.Config`), else Hex for glibc Linux, else `:none`.
  """
  @spec resolve(String.t() | nil, String.t(), %{String.t() => String.t()}) :: {:ok, t()} | :none
  def resolve(erts_source, triple, env \\ %{})

  def resolve(base, triple, _env) when is_binary(base) do
    base = String.trim_trailing(base, "/")

    {:ok,
     %__MODULE__{
       layout: :mirror,
       base: base,
       triple: triple,
       index_url: "#{base}/#{triple}/SHA256SUMS"
     }}
  end

  def resolve(nil, triple, env) do
    case @hex_arch do
      %{^triple => arch} ->
        hex = String.trim_trailing(Env.value(env, "BATAMANTA_HEX_OTP_URL") || @hex_url, "/")

        base = "#{hex}/#{arch}/ubuntu-22.04"

        {:ok,
         %__MODULE__{layout: :hex, base: base, triple: triple, index_url: "#{base}/builds.txt"}}

      _ ->
        :none
    end
  end

  @doc "The tarball URL of `version`."
  @spec tarball_url(t(), String.t()) :: String.t()
  def tarball_url(%__MODULE__{layout: :mirror} = source, version),
    do: "#{source.base}/#{source.triple}/OTP-#{version}.tar.gz"

  def tarball_url(%__MODULE__{layout: :hex} = source, version),
    do: "#{source.base}/OTP-#{version}.tar.gz"

  @doc "Parses the index (`SHA256SUMS` or `builds.txt`) into `version => sha256`."
  @spec parse_index(t(), String.t()) :: index()
  def parse_index(%__MODULE__{layout: :mirror}, text) do
    for line <- String.split(text, "\n"),
        [hash, file] <- [String.split(String.trim(line), ~r/\s+\*?/, parts: 2)],
        sha256?(hash),
        version = tarball_version(file),
        version != nil,
        into: %{},
        do: {version, String.downcase(hash)}
  end

  def parse_index(%__MODULE__{layout: :hex}, text) do
    for line <- String.split(text, "\n"),
        ["OTP-" <> version | rest] <- [String.split(line)],
        version =~ @version,
        into: %{},
        do: {version, hex_checksum(rest)}
  end

  defp hex_checksum([_git, _date, hash | _]), do: if(sha256?(hash), do: String.downcase(hash))
  defp hex_checksum(_), do: nil

  defp tarball_version("OTP-" <> rest) do
    version = String.replace_suffix(rest, ".tar.gz", "")
    if String.ends_with?(rest, ".tar.gz") and version =~ @version, do: version
  end

  defp tarball_version(_), do: nil

  defp sha256?(hash), do: hash =~ ~r/^[0-9a-fA-F]{64}$/

  @doc """
  Picks the version to install: exactly `requested`, or for `:auto` the host's exact
  version if available, else the newest patch of the host's major. Entries without a
  checksum are never picked.
  """
  @spec select(t(), index(), String.t() | :auto, String.t()) ::
          {:ok, String.t(), String.t()} | {:error, String.t()}
  def select(source, index, :auto, host_version) do
    verified = for {version, hash} <- index, hash != nil, do: version
    major = major(host_version)

    candidate =
      if host_version in verified,
        do: host_version,
        else: verified |> Enum.filter(&(major(&1) == major)) |> Enum.max_by(&key/1, fn -> nil end)

    case candidate do
      nil ->
        {:error,
         "#{source.index_url} has no verifiable OTP #{major} build for #{source.triple} " <>
           "(the host runs OTP #{host_version}). #{available(index)}. Set otp_version: " <>
           "(--otp-version) to one of them with a matching OTP on PATH, or point " <>
           "erts_source: (--erts-source, BATAMANTA_ERTS_SOURCE) at a mirror that has OTP #{major}"}

      version ->
        {:ok, version, Map.fetch!(index, version)}
    end
  end

  def select(source, index, requested, _host_version) do
    case Map.fetch(index, requested) do
      {:ok, nil} ->
        {:error,
         "OTP #{requested} is listed in #{source.index_url} without a sha256 checksum, and " <>
           "batamanta does not install a runtime it cannot verify. Choose another " <>
           "otp_version (--otp-version). #{available(index)}"}

      {:ok, hash} ->
        {:ok, requested, hash}

      :error ->
        {:error,
         "OTP #{requested} (otp_version: / --otp-version) is not available for " <>
           "#{source.triple} at #{source.index_url}. #{available(index)}"}
    end
  end

  @doc "A sentence listing the available versions, newest first."
  @spec available(index()) :: String.t()
  def available(index) when map_size(index) == 0, do: "The source lists no OTP versions"

  def available(index) do
    versions = index |> Map.keys() |> Enum.sort_by(&key/1, :desc)
    {shown, rest} = Enum.split(versions, 30)
    more = if rest == [], do: "", else: " and #{length(rest)} older"
    "Available: #{Enum.join(shown, ", ")}#{more}"
  end

  @doc "The OTP major of a version string: `\"25.2.3\"` -> `\"25\"`."
  @spec major(String.t()) :: String.t()
  def major(version), do: version |> String.split(".") |> hd()

  defp key(version), do: version |> String.split(".") |> Enum.map(&String.to_integer/1)
end
