defmodule TuiMenu.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    children = [
      Supervisor.child_spec({Task, fn -> System.halt(TuiMenu.main(System.argv())) end},
        restart: :temporary
      )
    ]

    Supervisor.start_link(children, strategy: :one_for_one, name: TuiMenu.Supervisor)
  end

  # SIGTERM stops the VM through init:stop/0, which runs this: give the user their
  # screen back. The terminal's modes are the dispenser's job, the screen is ours.
  @impl true
  def stop(_state) do
    TuiMenu.Screen.leave()
    :ok
  end
end
