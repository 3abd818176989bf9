defmodule HelloCli.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    # System.argv/0 already holds the binary's arguments here, so a failure to start can
    # be reported like any other boot crash.
    if System.argv() == ["crash"], do: raise("hello_cli was asked to crash during start")

    children = [
      Supervisor.child_spec({Task, fn -> HelloCli.CLI.run(System.argv()) end}, restart: :temporary)
    ]

    Supervisor.start_link(children, strategy: :one_for_one, name: HelloCli.Supervisor)
  end

  @impl true
  def stop(_state) do
    if marker = System.get_env("HELLO_STOP_MARKER"), do: File.write!(marker, "stopped\n")
    :ok
  end
end
