defmodule TuiMenu do
  @moduledoc """
  A menu for the terminal: Up/Down move, Enter selects, q (or Ctrl-C) quits, and it
  redraws when the terminal is resized.

  batamanta's `:tui` dispenser hands the VM a terminal in raw mode, so every key
  arrives as soon as it is pressed, unechoed, and Ctrl-C is a key (byte 3) rather than a
  signal. Other commands, for scripts and tests:

    * `args ARG...` prints `System.argv()` as an Elixir term;
    * `exit N` exits with status N;
    * `signals` prints the signals it gets (`TuiMenu.Signals`).
  """

  alias TuiMenu.{Keys, Screen}

  @items ["Apples", "Bananas", "Cherries", "Dates", "Elderberries"]

  # OTP 25 cannot deliver SIGWINCH to Erlang code (os:set_signal/2 refuses it), but
  # :io.columns/0 and :io.rows/0 ask the terminal (TIOCGWINSZ) on every call: polling
  # them is how the menu notices a resize.
  @resize_poll_ms 200

  def main(["args" | _]) do
    IO.puts(inspect(System.argv()))
    0
  end

  def main(["exit", status]), do: String.to_integer(status)

  def main(["signals"]), do: TuiMenu.Signals.run()

  def main([]) do
    Keys.start_reader(self())
    Screen.enter()
    state = %{cursor: 0, selected: nil, size: Screen.size()}
    Screen.draw(@items, state)
    result = loop(state)
    Screen.leave()
    if result.selected, do: IO.puts("picked: #{Enum.at(@items, result.selected)}")
    0
  end

  def main(_other) do
    IO.puts(:stderr, "usage: menu [args ARG... | exit N | signals]")
    64
  end

  defp loop(state) do
    receive do
      {:key, key} ->
        case handle(key, state) do
          {:quit, state} ->
            state

          {:continue, state} ->
            Screen.draw(@items, state)
            loop(state)
        end
    after
      @resize_poll_ms ->
        case Screen.size() do
          size when size == state.size ->
            loop(state)

          size ->
            state = %{state | size: size}
            Screen.draw(@items, state)
            loop(state)
        end
    end
  end

  defp handle(:up, state), do: {:continue, %{state | cursor: max(state.cursor - 1, 0)}}

  defp handle(:down, state),
    do: {:continue, %{state | cursor: min(state.cursor + 1, length(@items) - 1)}}

  defp handle(:enter, state), do: {:continue, %{state | selected: state.cursor}}
  defp handle(:quit, state), do: {:quit, state}
  defp handle(_other, state), do: {:continue, state}
end
