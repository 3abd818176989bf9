defmodule HelloCli.CLI do
  @moduledoc """
  The command line of the example: `hello [command] [args...]`.

  It finishes like every batamanta CLI app: by calling `System.halt/1` with the exit
  status, also when a command raises, throws or exits: the VM runs with `--no-halt`, so a
  crash that only ended the task would leave it running forever.
  """

  @usage """
  usage: hello [command]

    (none)          print a greeting
    args ARG...     print System.argv() as an Elixir term
    exit N          exit with status N
    read            echo what arrives on stdin
    streams         write one line to stdout and one to stderr
    env NAME...     print environment variables
    wait            keep running until stopped (SIGTERM runs the application's stop/1)
    crash           fail while the application starts
    raise           raise an exception in the command (exits 1)
  """

  def run(argv) do
    status =
      try do
        command(argv)
      catch
        kind, reason ->
          IO.puts(:stderr, Exception.format(kind, reason, __STACKTRACE__))
          1
      end

    System.halt(status)
  end

  defp command([]) do
    IO.puts("Hello from batamanta!")
    0
  end

  defp command(["--help" | _]) do
    IO.write(@usage)
    0
  end

  defp command(["args" | _]) do
    IO.puts(inspect(System.argv()))
    0
  end

  defp command(["exit", code]) do
    String.to_integer(code)
  end

  defp command(["read"]) do
    IO.write("read: " <> IO.read(:stdio, :eof))
    0
  end

  defp command(["streams"]) do
    IO.puts(:stdio, "to stdout")
    IO.puts(:stderr, "to stderr")
    0
  end

  defp command(["env" | names]) do
    Enum.each(names, &IO.puts("#{&1}=#{System.get_env(&1)}"))
    0
  end

  defp command(["wait"]) do
    IO.puts("waiting")
    Process.sleep(:infinity)
  end

  defp command(["raise"]) do
    raise "hello_cli was asked to raise"
  end

  defp command(other) do
    IO.puts(:stderr, "hello: unknown command #{inspect(other)}\n" <> @usage)
    64
  end
end
