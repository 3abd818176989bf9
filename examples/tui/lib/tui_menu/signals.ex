defmodule TuiMenu.Signals do
  @moduledoc """
  `menu signals`: prints each SIGHUP and SIGUSR2 as it arrives, and exits with status
  7 on SIGTERM, so a test can see which signals reach the VM and that a status the app
  chose survives a SIGTERM. (The VM keeps SIGUSR1 for itself: it writes a crash dump.)
  """

  @behaviour :gen_event

  @handled [:sighup, :sigusr2, :sigterm]

  def run do
    for signal <- @handled, do: :os.set_signal(signal, :handle)
    :ok = :gen_event.add_handler(:erl_signal_server, __MODULE__, self())
    IO.puts("waiting for signals")
    loop()
  end

  defp loop do
    receive do
      {:signal, :sigterm} ->
        System.halt(7)

      {:signal, signal} ->
        IO.puts("got #{signal}")
        loop()
    end
  end

  @impl true
  def init(owner), do: {:ok, owner}

  @impl true
  def handle_event(signal, owner) do
    send(owner, {:signal, signal})
    {:ok, owner}
  end

  @impl true
  def handle_call(_request, owner), do: {:ok, :ok, owner}
end
