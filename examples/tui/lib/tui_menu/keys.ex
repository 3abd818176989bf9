defmodule TuiMenu.Keys do
  @moduledoc """
  Turns the bytes of a raw-mode terminal into keys, sent to the owner as
  `{:key, key}`: `:up`, `:down`, `:left`, `:right`, `:enter`, `:quit` (q, Ctrl-C or the
  end of input), or the character itself.
  """

  # An arrow arrives as ESC [ A (or ESC O A in application cursor mode), in one write;
  # an ESC alone is the Escape key, told apart by nothing following it quickly.
  @sequence_timeout_ms 50

  def start_reader(owner) do
    parser = spawn_link(fn -> parse(owner) end)
    spawn_link(fn -> read(parser) end)
  end

  defp read(parser) do
    case IO.getn("", 1) do
      char when is_binary(char) ->
        send(parser, {:char, char})
        read(parser)

      _eof_or_error ->
        send(parser, :eof)
    end
  end

  defp parse(owner) do
    receive do
      {:char, "\e"} ->
        send(owner, {:key, escape()})

      {:char, char} ->
        send(owner, {:key, plain(char)})

      :eof ->
        send(owner, {:key, :quit})
    end

    parse(owner)
  end

  defp plain(char) when char in ["\r", "\n"], do: :enter
  defp plain(char) when char in ["q", "Q", <<3>>], do: :quit
  defp plain(char), do: char

  defp escape do
    with {:ok, prefix} when prefix in ["[", "O"] <- next(),
         {:ok, final} <- next() do
      arrow(final)
    else
      _ -> :escape
    end
  end

  defp next do
    receive do
      {:char, char} -> {:ok, char}
    after
      @sequence_timeout_ms -> :timeout
    end
  end

  defp arrow("A"), do: :up
  defp arrow("B"), do: :down
  defp arrow("C"), do: :right
  defp arrow("D"), do: :left
  defp arrow(_other), do: :unknown
end
