defmodule HelloEscript.Shout do
  @moduledoc """
  A second entry point, for `mix batamanta --escript-module HelloEscript.Shout`:
  prints its arguments upper-cased.
  """

  def main(argv), do: IO.puts(Enum.map_join(argv, " ", &String.upcase/1))
end
