defmodule Batamanta.Test.Wait do
  @moduledoc "Polling for a condition another process brings about."

  @doc "Whether `fun` returns true within `tries` more calls, `interval` ms apart."
  def until(fun, tries, interval \\ 100) do
    cond do
      fun.() -> true
      tries == 0 -> false
      true -> Process.sleep(interval) && until(fun, tries - 1, interval)
    end
  end
end
