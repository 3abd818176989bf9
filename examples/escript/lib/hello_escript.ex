defmodule HelloEscript.CLI do
  @moduledoc """
  A small escript: `--help`, `args` (prints argv), `exit N` (exit status through
  `System.halt/1`), `raise` (an uncaught error), anything else greets.
  """

  def main(["--help" | _]), do: IO.puts("usage: hello [--help | args ... | exit N | raise]")
  def main(["args" | _] = argv), do: IO.puts(inspect(argv))
  def main(["exit", status]), do: System.halt(String.to_integer(status))
  def main(["raise" | _]), do: raise("hello was asked to raise")
  def main(_argv), do: IO.puts("Hello from a batamanta escript!")
end
