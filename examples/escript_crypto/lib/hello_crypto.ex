defmodule HelloCrypto.CLI do
  @moduledoc "Prints the SHA-256 of each argument, in hex, one per line (uses `:crypto`)."

  def main([]) do
    IO.puts(:stderr, "usage: sha256 TEXT...")
    System.halt(2)
  end

  def main(texts) do
    for text <- texts, do: IO.puts(Base.encode16(:crypto.hash(:sha256, text), case: :lower))
  end
end
