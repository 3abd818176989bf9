defmodule Mix.Tasks.Batamanta.Inspect do
  @shortdoc "Shows what a batamanta executable carries, without running it"

  @moduledoc """
  Shows the trailer and the payload of an executable built by `mix batamanta`,
  without running it.

      $ mix batamanta.inspect ./hello-0.1.0-x86_64-linux
      $ mix batamanta.inspect --no-list ./hello-0.1.0-x86_64-linux

  The header gives the format version, the content hash, the sizes and offsets of the
  payload and the metadata, and what the metadata says: app, version, format, mode,
  target, ERTS/OTP version and the libc the runtime needs. Then every payload entry is
  listed with its mode and size, like `tar -tv`; reading the listing decompresses the
  whole payload and checks its content hash, as the first run of the binary would.

  ## Flags

    * `--no-list` - print the header only (reads a few KiB instead of the payload).

  A file without a batamanta trailer (any other program, or a stripped or truncated
  binary) is an error.
  """

  use Mix.Task

  alias Batamanta.{Inspection, Native}

  @impl true
  def run(argv) do
    {path, list?} = parse!(argv)
    native = Native.start()

    try do
      case Inspection.read(native, path, list?) do
        {:ok, inspection} -> print(inspection, list?)
        {:error, message} -> Mix.raise(message)
      end
    after
      Native.close(native)
    end
  end

  defp parse!(argv) do
    case OptionParser.parse(argv, strict: [list: :boolean]) do
      {opts, [path], []} ->
        {Path.expand(path), Keyword.get(opts, :list, true)}

      {_opts, _paths, [{flag, _} | _]} ->
        Mix.raise("mix batamanta.inspect: unknown flag #{flag}; the only flag is --no-list")

      {_opts, _paths, []} ->
        Mix.raise("mix batamanta.inspect takes one path: mix batamanta.inspect [--no-list] BIN")
    end
  end

  defp print(inspection, list?) do
    Mix.shell().info(Inspection.header(inspection))
    if list?, do: Mix.shell().info(["\n", Inspection.listing(inspection)])
  end
end
