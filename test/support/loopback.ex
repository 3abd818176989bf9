defmodule Batamanta.Test.Loopback do
  @moduledoc "A free TCP port on 127.0.0.1, and the HTTP status a server there answers."

  @doc "A port nothing listens on right now."
  def free_port do
    {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(socket)
    :gen_tcp.close(socket)
    port
  end

  @doc "`{status, curl's exit}` of GET / on `port`; `{\"000\", _}` when nothing answers."
  def get(port, timeout_s \\ 5) do
    System.cmd("curl", [
      "-s",
      "-m",
      to_string(timeout_s),
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "http://127.0.0.1:#{port}/"
    ])
  end
end
