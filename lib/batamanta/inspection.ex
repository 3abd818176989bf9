defmodule Batamanta.Inspection do
  @moduledoc """
  What a batamanta executable carries, as read back by the helper's `:inspect`
  command (without running the binary), and its text for `mix batamanta.inspect`.
  """

  alias Batamanta.{Native, Output}

  @described ~w(app version format mode target erts_version otp_version libc)

  @doc """
  Reads the trailer and metadata of `path`, and the payload listing when `list?`.
  Listing streams the whole payload, so it also verifies the content hash.
  """
  @spec read(Native.t(), Path.t(), boolean()) :: {:ok, map()} | {:error, String.t()}
  def read(native, path, list?) do
    case Native.request(native, :inspect, %{path: path, list: list?}) do
      {:ok, inspection} ->
        {:ok, Map.put(inspection, :path, path)}

      {:error, :no_trailer, _message} ->
        {:error,
         "#{path} has no batamanta payload: it is not a batamanta executable, or it was " <>
           "stripped or truncated. `mix batamanta` builds one"}

      {:error, :enoent, _message} ->
        {:error, "#{path} does not exist"}

      {:error, code, message} ->
        {:error, "cannot inspect #{path}: #{message} (#{code})"}
    end
  end

  @doc "The header: what the trailer and the descriptive metadata records say."
  @spec header(map()) :: String.t()
  def header(%{path: path, trailer: trailer, metadata: metadata}) do
    meta = metadata |> Enum.filter(fn {key, _} -> key in @described end) |> Map.new()
    launch_records = length(metadata) - map_size(meta)

    """
    #{path}: batamanta executable, format version #{trailer.format_version}
      app           #{meta["app"]} #{meta["version"]}
      format        #{meta["format"]}
      mode          #{meta["mode"]}
      target        #{meta["target"]}
      erts          #{meta["erts_version"]} (OTP #{meta["otp_version"]})
      libc          #{meta["libc"]}
      content hash  #{trailer.content_hash}
      dispenser     #{Output.bytes(trailer.payload_offset)}
      payload       #{Output.bytes(trailer.payload_length)} at offset #{trailer.payload_offset} (#{Output.bytes(trailer.uncompressed_size)} uncompressed, ratio #{Output.ratio(trailer.uncompressed_size, trailer.payload_length)})
      metadata      #{trailer.metadata_length} B at offset #{trailer.metadata_offset} (#{length(metadata)} records, #{launch_records} for the launch)\
    """
  end

  @doc "The payload listing, one entry a line, like `tar -tv`."
  @spec listing(map()) :: String.t()
  def listing(%{entries: entries}) do
    lines = Enum.map(entries, &entry_line/1)
    Enum.join(["payload: #{length(entries)} entries" | lines], "\n")
  end

  defp entry_line(entry) do
    name =
      case entry.type do
        "directory" -> entry.path <> "/"
        "symlink" -> "#{entry.path} -> #{entry.link}"
        "file" -> entry.path
      end

    size = entry.size |> Integer.to_string() |> String.pad_leading(10)
    "  #{permissions(entry.type, entry.mode)} #{size}  #{name}"
  end

  defp permissions(type, mode) do
    kind = %{"directory" => "d", "symlink" => "l", "file" => "-"}[type]

    bits =
      for shift <- [6, 3, 0], {bit, char} <- [{4, "r"}, {2, "w"}, {1, "x"}], into: "" do
        if Bitwise.band(Bitwise.bsr(mode, shift), bit) != 0, do: char, else: "-"
      end

    kind <> bits
  end
end
