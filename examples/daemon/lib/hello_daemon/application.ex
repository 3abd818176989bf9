defmodule HelloDaemon.Application do
  @moduledoc """
  An HTTP service on 127.0.0.1 (`:inets` httpd) under a supervisor. The port comes from
  `HELLO_DAEMON_PORT` through config/runtime.exs; `stop/1` writes the file named by
  `HELLO_DAEMON_STOP_MARKER`, so a test can tell a graceful stop from a kill.
  `HELLO_DAEMON_START_DELAY_MS` and `HELLO_DAEMON_STOP_DELAY_MS` make the boot or the
  stop that slow, for the tests of `start --timeout` and `stop --timeout`.
  """

  use Application

  @impl true
  def start(_type, _args) do
    delay("HELLO_DAEMON_START_DELAY_MS")
    port = Application.fetch_env!(:hello_daemon, :port)
    children = [{HelloDaemon.Web, port: port}]
    result = Supervisor.start_link(children, strategy: :one_for_one, name: HelloDaemon.Supervisor)
    IO.puts("hello_daemon listening on 127.0.0.1:#{port}, args: #{inspect(System.argv())}")
    result
  end

  @impl true
  def stop(_state) do
    IO.puts("hello_daemon stopping")
    delay("HELLO_DAEMON_STOP_DELAY_MS")

    case System.get_env("HELLO_DAEMON_STOP_MARKER") do
      nil -> :ok
      path -> File.write!(path, "stopped\n")
    end
  end

  defp delay(variable) do
    case System.get_env(variable) do
      nil -> :ok
      ms -> Process.sleep(String.to_integer(ms))
    end
  end
end
