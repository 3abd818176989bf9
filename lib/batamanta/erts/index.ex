defmodule Batamanta.ERTS.Index do
  @moduledoc """
  Fetches a source's list of OTP versions (`SHA256SUMS` or Hex's `builds.txt`) and keeps
  it for an hour under the ERTS cache, as `<erts cache>/indexes/<md5 of its URL>`.

  Hex's `builds.txt` is over 100 KiB and every build that does not find its runtime in
  the cache straight away needs it; within the hour a new build picks the same version
  from the kept copy as it would from a fresh one, unless a patch release appeared in
  between. A failed fetch is never kept: the next build tries again, and so is a list that names no version.
  """

  alias Batamanta.ERTS.Source
  alias Batamanta.Native

  @ttl_seconds 3600
  # builds.txt lists every OTP build Hex has and is ~100 KiB; 4 MiB leaves it room to grow
  # and stops a mirror or proxy that never ends its body, on disk and in memory.
  @max_bytes 4 * 1024 * 1024

  @doc """
  The parsed index of `source`: the kept copy when younger than an hour, else a fresh
  download into the cache `root`. `{:unavailable, why}` when it cannot be fetched.
  """
  @spec fetch(Source.t(), Native.t(), Path.t(), (map() -> any())) ::
          {:ok, Source.index()} | {:unavailable, String.t()}
  def fetch(%Source{} = source, native, root, on_progress) do
    path = path(root, source)

    case fresh(path, System.os_time(:second)) do
      {:ok, text} -> {:ok, Source.parse_index(source, text)}
      :stale -> download(source, native, path, on_progress)
    end
  end

  @doc "Where the index of `source` is kept."
  @spec path(Path.t(), Source.t()) :: Path.t()
  def path(root, %Source{index_url: url}) do
    Path.join([root, "indexes", Base.encode16(:erlang.md5(url), case: :lower)])
  end

  # An mtime in the future (a clock set back) is not trusted to be fresh.
  defp fresh(path, now) do
    with {:ok, %File.Stat{type: :regular, mtime: mtime}} <- File.stat(path, time: :posix),
         true <- (now - mtime) in 0..(@ttl_seconds - 1),
         {:ok, text} <- read(path) do
      {:ok, text}
    else
      _ -> :stale
    end
  end

  # The helper writes the file atomically, so concurrent builds never read half of one.
  # The list is small: one retry tells a blip from an outage without a long wait.
  defp download(source, native, path, on_progress) do
    File.mkdir_p!(Path.dirname(path))
    args = %{url: source.index_url, output: path, sha256: nil, retries: 1, max_bytes: @max_bytes}

    with {:ok, _} <- Native.request(native, :fetch, args, on_progress),
         {:ok, text} <- read(path) do
      {:ok, keep_if_listed(Source.parse_index(source, text), path)}
    else
      {:error, _code, message} -> {:unavailable, "the OTP list could not be fetched: #{message}"}
      {:error, why} -> {:unavailable, "the OTP list at #{path} could not be read: #{why}"}
    end
  end

  # Never more than the download limit in memory, whatever the file has become since.
  defp read(path) do
    with {:ok, file} <- File.open(path, [:read, :binary]) do
      try do
        case IO.binread(file, @max_bytes + 1) do
          :eof -> {:ok, ""}
          text when byte_size(text) > @max_bytes -> {:error, "larger than #{@max_bytes} bytes"}
          text when is_binary(text) -> {:ok, text}
          {:error, reason} -> {:error, :file.format_error(reason)}
        end
      after
        File.close(file)
      end
    else
      {:error, reason} -> {:error, :file.format_error(reason)}
    end
  end

  # A page that lists nothing (a captive portal, a mirror being filled) is used once, so
  # the error names it, but not kept for an hour.
  defp keep_if_listed(index, path) do
    if index == %{}, do: File.rm(path)
    index
  end
end
