defmodule Batamanta.ERTS.Progress do
  @moduledoc """
  Shows the helper's `:progress` messages for a download: a bar redrawn in place on a
  terminal, and a line at each quarter otherwise, so CI logs stay short. A `"lock"`
  message says the build is waiting for another one that is installing the same entry.
  """

  @width 30

  @doc """
  Returns the `on_progress` callback for `Batamanta.Native.request/4`. `label` names
  what is downloaded; `quiet` silences everything.
  """
  @spec reporter(String.t(), boolean(), boolean()) :: (map() -> :ok)
  def reporter(label, quiet, tty \\ tty?())

  def reporter(_label, true, _tty), do: fn _ -> :ok end

  def reporter(label, false, tty) do
    key = make_ref()

    fn progress ->
      previous = Process.get(key)
      Process.put(key, step(progress))
      IO.write(render(label, progress, previous, tty))
    end
  end

  @doc false
  @spec render(String.t(), map(), term(), boolean()) :: iodata()
  def render(label, %{stage: "lock"}, _previous, _tty),
    do: "* waiting for another build that is installing #{label}\n"

  def render(label, %{done: done, total: total}, _previous, true) when total > 0 do
    filled = div(@width * min(done, total), total)
    bar = String.duplicate("#", filled) <> String.duplicate(" ", @width - filled)
    ending = if done >= total, do: "\n", else: ""
    "\r  #{label} [#{bar}] #{percent(done, total)}% #{mib(done)}/#{mib(total)} MiB#{ending}"
  end

  def render(label, %{done: done}, _previous, true), do: "\r  #{label} #{mib(done)} MiB"

  def render(label, progress, previous, false) do
    case step(progress) do
      ^previous -> ""
      nil -> ""
      quarter -> "  #{label}: #{quarter * 25}% of #{mib(progress.total)} MiB\n"
    end
  end

  defp step(%{stage: "download", done: done, total: total}) when total > 0,
    do: div(4 * min(done, total), total)

  defp step(_progress), do: nil

  defp percent(done, total), do: div(100 * min(done, total), total)
  defp mib(bytes), do: :erlang.float_to_binary(bytes / 1_048_576, decimals: 1)

  defp tty?, do: match?({:ok, _}, :io.columns())
end
