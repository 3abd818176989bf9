# The port round trip the Mix side pays per helper request: 5000 pings to one helper.
native = Batamanta.Native.start()
count = 5000

{micros, _} =
  :timer.tc(fn ->
    for _ <- 1..count, do: {:ok, _} = Batamanta.Native.request(native, :ping, %{})
  end)

IO.puts("#{Float.round(micros / count, 1)} µs per request over #{count}")
Batamanta.Native.close(native)
