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
         {:ok, text} <- File.read(path) do
      {:ok, text}
    else
      _ -> :stale
    end
  end

  # The helper writes the file atomically, so concurrent builds never read half of one.
  # The list is small: one retry tells a blip from an outage without a long wait.
  defp download(source, native, path, on_progress) do
    File.mkdir_p!(Path.dirname(path))
    args = %{url: source.index_url, output: path, sha256: nil, retries: 1}

    case Native.request(native, :fetch, args, on_progress) do
      {:ok, _} -> {:ok, keep_if_listed(Source.parse_index(source, File.read!(path)), path)}
      {:error, _code, message} -> {:unavailable, "the OTP list could not be fetched: #{message}"}
    end
  end

  # A page that lists nothing (a captive portal, a mirror being filled) is used once, so
  # the error names it, but not kept for an hour.
  defp keep_if_listed(index, path) do
    if index == %{}, do: File.rm(path)
    index
  end
end
