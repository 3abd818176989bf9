# Wraps an arbitrary directory into a batamanta binary whose launch spec execs `bin/run`
# inside it: lets bench/run measure the dispenser alone, without a VM behind it. An
# optional third argument is the zstd level (default 3).
[source, output | level] = System.argv()
level = level |> List.first("3") |> String.to_integer()
native = Batamanta.Native.start()
payload = output <> ".payload"

{:ok, packed} =
  Batamanta.Native.request(native, :pack, %{source: source, output: payload, level: level, mtime: 0})

metadata = [
  {"app", "bench"},
  {"version", "0.0.0"},
  {"format", "release"},
  {"mode", "cli"},
  {"target", "x86_64-linux-gnu"},
  {"libc", "none"},
  {"exec", "bin/run"}
]

{:ok, dispenser} = Batamanta.Products.path("batamanta-dispenser")

{:ok, _} =
  Batamanta.Native.request(native, :assemble, %{
    dispenser: dispenser,
    payload: payload,
    output: output,
    metadata: metadata,
    uncompressed: packed.uncompressed
  })

File.rm!(payload)
File.chmod!(output, 0o755)
Batamanta.Native.close(native)
