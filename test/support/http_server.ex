defmodule Batamanta.Test.HTTPServer do
  @moduledoc """
  A scripted HTTP/1.1 server on 127.0.0.1 for download tests.

  Each path has a list of responses, used one per request; the last one repeats:

    * `{:file, path}` - 200 with the file's bytes;
    * `{:body, binary}` - 200 with `binary`;
    * `{:status, code}` - `code` with a short body;
    * `{:truncated, path}` - announces the file's full length, sends half, closes;
    * `{:stall, path}` - announces the file, sends 100 bytes, then nothing;
    * `{:throttle, path, bytes_per_tick, tick_ms}` - the file, slowly;
    * `{:endless, chunk}` - 200 with no Content-Length and `chunk` repeated until the
      client hangs up.

  Unknown paths get 404.
  """

  def start(routes \\ %{}) do
    {:ok, listen} =
      :gen_tcp.listen(0, [
        :binary,
        ip: {127, 0, 0, 1},
        packet: :http_bin,
        active: false,
        reuseaddr: true,
        backlog: 64
      ])

    {:ok, port} = :inet.port(listen)
    {:ok, agent} = Agent.start(fn -> %{routes: routes, hits: %{}} end)
    acceptor = spawn(fn -> accept(listen, agent) end)
    :ok = :gen_tcp.controlling_process(listen, acceptor)
    %{port: port, agent: agent, acceptor: acceptor, listen: listen}
  end

  def stop(server) do
    Process.exit(server.acceptor, :kill)
    Agent.stop(server.agent)
  end

  def url(server, path), do: "http://127.0.0.1:#{server.port}#{path}"

  def put(server, path, responses),
    do: Agent.update(server.agent, &put_in(&1, [:routes, path], List.wrap(responses)))

  def hits(server, path), do: Agent.get(server.agent, &Map.get(&1.hits, path, 0))

  defp accept(listen, agent) do
    {:ok, socket} = :gen_tcp.accept(listen)
    pid = spawn(fn -> receive(do: (:go -> serve(socket, agent))) end)
    :ok = :gen_tcp.controlling_process(socket, pid)
    send(pid, :go)
    accept(listen, agent)
  end

  defp serve(socket, agent) do
    with {:ok, {:http_request, :GET, {:abs_path, path}, _}} <- :gen_tcp.recv(socket, 0),
         :ok <- skip_headers(socket) do
      :ok = :inet.setopts(socket, packet: :raw)

      case respond(socket, next(agent, path)) do
        :keep_alive ->
          :ok = :inet.setopts(socket, packet: :http_bin)
          serve(socket, agent)

        :close ->
          :gen_tcp.close(socket)
      end
    else
      _ -> :gen_tcp.close(socket)
    end
  end

  defp skip_headers(socket) do
    case :gen_tcp.recv(socket, 0) do
      {:ok, :http_eoh} -> :ok
      {:ok, {:http_header, _, _, _, _}} -> skip_headers(socket)
      other -> other
    end
  end

  defp next(agent, path) do
    Agent.get_and_update(agent, fn state ->
      state = update_in(state, [:hits, path], &((&1 || 0) + 1))

      case state.routes[path] do
        nil -> {{:status, 404}, state}
        [only] -> {only, state}
        [first | rest] -> {first, put_in(state, [:routes, path], rest)}
      end
    end)
  end

  defp respond(socket, {:file, path}), do: respond(socket, {:body, File.read!(path)})

  defp respond(socket, {:body, body}) do
    :gen_tcp.send(socket, [head(200, byte_size(body)), body])
    :keep_alive
  end

  defp respond(socket, {:status, code}) do
    body = "status #{code}\n"
    :gen_tcp.send(socket, [head(code, byte_size(body)), body])
    :keep_alive
  end

  defp respond(socket, {:truncated, path}) do
    body = File.read!(path)

    :gen_tcp.send(socket, [
      head(200, byte_size(body)),
      binary_part(body, 0, div(byte_size(body), 2))
    ])

    :close
  end

  defp respond(socket, {:stall, path}) do
    body = File.read!(path)
    :gen_tcp.send(socket, [head(200, byte_size(body)), binary_part(body, 0, 100)])
    Process.sleep(:infinity)
  end

  defp respond(socket, {:throttle, path, chunk, tick}) do
    body = File.read!(path)
    :gen_tcp.send(socket, head(200, byte_size(body)))
    trickle(socket, body, chunk, tick)
  end

  defp respond(socket, {:endless, chunk}) do
    :gen_tcp.send(socket, "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n")
    Stream.repeatedly(fn -> :gen_tcp.send(socket, chunk) end) |> Enum.find(&(&1 != :ok))
    :close
  end

  defp trickle(_socket, <<>>, _chunk, _tick), do: :keep_alive

  defp trickle(socket, body, chunk, tick) do
    size = min(chunk, byte_size(body))
    <<part::binary-size(size), rest::binary>> = body

    case :gen_tcp.send(socket, part) do
      :ok ->
        Process.sleep(tick)
        trickle(socket, rest, chunk, tick)

      {:error, _} ->
        :close
    end
  end

  defp head(code, length) do
    "HTTP/1.1 #{code} #{reason(code)}\r\ncontent-length: #{length}\r\n" <>
      "content-type: application/octet-stream\r\n\r\n"
  end

  defp reason(200), do: "OK"
  defp reason(404), do: "Not Found"
  defp reason(500), do: "Internal Server Error"
  defp reason(_), do: "Status"
end
