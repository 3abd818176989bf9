defmodule Batamanta.Output do
  @moduledoc """
  What `mix batamanta` prints: one line per step with its duration, progress for long
  work, and the final summary.

  The mode is chosen once per run by `mode/3`:

    * `:tty` - an interactive terminal: progress is redrawn in place on one line;
    * `:plain` - no TTY, `CI`, `TERM=dumb` or `NO_COLOR`: the same step lines and
      summary, no progress and no escape codes, so logs stay short and greppable;
    * `:quiet` - `--quiet`: only the output path, no warnings (errors still reach
      stderr through `Mix.raise/1`).
  """

  alias Batamanta.{Config, Env}

  defstruct mode: :plain, tty?: false

  @type mode :: :tty | :plain | :quiet
  @type t :: %__MODULE__{mode: mode(), tty?: boolean()}

  @bar_width 24
  # Redrawing on every helper message would flood a slow terminal.
  @redraw_interval_ms 100

  @doc "The output for `config`, looking at this process's environment and terminal."
  @spec new(Config.t()) :: t()
  def new(%Config{quiet: quiet}) do
    tty? = tty?()
    %__MODULE__{mode: mode(System.get_env(), tty?, quiet), tty?: tty?}
  end

  @doc """
  Turns ANSI off for the rest of the run when the environment or the missing terminal
  asks for plain output, so what Mix prints itself (`Mix.shell().error/1`, the final
  `** (Mix)` line of a failed build, including a config error) has no escape codes
  either. Called first thing, before the config is read.
  """
  @spec plain_if_asked(%{String.t() => String.t()}) :: :ok
  def plain_if_asked(env) do
    if mode(env, tty?(), false) == :plain,
      do: Application.put_env(:elixir, :ansi_enabled, false),
      else: :ok
  end

  @doc """
  Picks the output mode from an env map, whether stdout is a terminal, and `--quiet`.
  """
  @spec mode(%{String.t() => String.t()}, boolean(), boolean()) :: mode()
  def mode(_env, _tty?, true), do: :quiet
  def mode(_env, false, false), do: :plain

  def mode(env, true, false) do
    if ci?(env) or colorless?(env), do: :plain, else: :tty
  end

  @doc "Whether the env map asks for no escape codes (`TERM=dumb` or `NO_COLOR`)."
  @spec colorless?(%{String.t() => String.t()}) :: boolean()
  def colorless?(env), do: env["TERM"] == "dumb" or Env.set?(env, "NO_COLOR")

  @doc "Whether the env map says the build runs in CI (`CI` set, and not to false or 0)."
  @spec ci?(%{String.t() => String.t()}) :: boolean()
  def ci?(env), do: Env.set?(env, "CI") and String.downcase(env["CI"]) not in ["false", "0"]

  @doc "Whether this VM's stdout is a terminal."
  @spec tty?() :: boolean()
  # With -noshell (as mix runs) OTP 25 cannot tell the terminal's size, but the elixir
  # launcher turns ANSI on exactly when stdout and stderr are terminals (`test -t`).
  def tty?, do: match?({:ok, _}, :io.columns()) or IO.ANSI.enabled?()

  @doc """
  Runs one step: `fun` returns `{value, description}`; prints the description with the
  time it took and returns the value.
  """
  @spec step(t(), (() -> {value, String.t()})) :: value when value: term()
  def step(%__MODULE__{} = out, fun) do
    {micros, {value, description}} = :timer.tc(fun)
    report(out, description, micros)
    value
  end

  @doc "Prints a step line for work already timed (`micros`)."
  @spec report(t(), String.t(), non_neg_integer()) :: :ok
  def report(%__MODULE__{mode: :quiet}, _description, _micros), do: :ok

  def report(%__MODULE__{} = out, description, micros) do
    clear_progress(out)
    Mix.shell().info(step_line(description, micros))
  end

  @doc "Prints `warning: message` on stderr, unless the run is `--quiet`."
  @spec warn(t(), String.t() | nil) :: :ok
  def warn(_out, nil), do: :ok
  def warn(%__MODULE__{mode: :quiet}, _message), do: :ok

  def warn(%__MODULE__{} = out, message) do
    clear_progress(out)
    Mix.shell().error("warning: " <> message)
  end

  @doc false
  @spec step_line(String.t(), non_neg_integer()) :: String.t()
  def step_line(description, micros), do: "* #{description} (#{duration(micros)})"

  @doc """
  The `on_progress` callback for `Batamanta.Native.request/4`: on a TTY it redraws one
  line, `label` followed by a bar and byte counts, plus the rate for downloads; in plain
  mode it draws nothing, since the step line that follows says what was done.

  Two events are lines of their own on a TTY and in plain mode, because the build would
  otherwise seem to hang: a retry (`stage: "retry"`, with the helper's `message`) and
  waiting for another build that is using the same runtime or project (`stage: "lock"`).
  Quiet mode prints none of it.
  """
  @spec progress(t(), String.t()) :: (map() -> :ok)
  def progress(%__MODULE__{mode: :quiet}, _label), do: fn _progress -> :ok end

  def progress(%__MODULE__{} = out, label) do
    draw = bar_drawer(out, label)

    fn
      %{stage: "lock"} -> notice(out, "waiting for another build that is using #{label}")
      %{stage: "retry"} = retry -> notice(out, retry_line(retry))
      progress -> draw.(progress)
    end
  end

  @doc false
  @spec retry_line(map()) :: String.t()
  def retry_line(%{message: message, done: failed, total: attempts}),
    do: "#{message}; retrying (attempt #{failed + 1} of #{attempts})"

  defp notice(out, text) do
    clear_progress(out)
    Mix.shell().info("  " <> text)
  end

  defp bar_drawer(%__MODULE__{mode: :tty}, label) do
    started = System.monotonic_time(:millisecond)
    drawn_at = {__MODULE__, make_ref()}

    fn %{done: done, total: total} = progress ->
      now = System.monotonic_time(:millisecond)
      last = Process.get(drawn_at)

      if last == nil or now - last >= @redraw_interval_ms or (total > 0 and done >= total) do
        line = progress_line(label, progress, now - started)
        IO.write(["\r", line, "\e[K"])
        Process.put(drawn_at, now)
        Process.put({__MODULE__, :dirty}, true)
      end

      :ok
    end
  end

  defp bar_drawer(%__MODULE__{}, _label), do: fn _progress -> :ok end

  @doc """
  One progress line, without control characters: `label`, a bar and the percentage when
  the total is known, the bytes done, and the rate for a download.
  """
  @spec progress_line(String.t(), map(), non_neg_integer()) :: String.t()
  def progress_line(label, %{stage: stage, done: done, total: total}, elapsed_ms) do
    counts =
      if total > 0,
        do: "#{bar(done, total)} #{percent(done, total)}% #{bytes(done)} / #{bytes(total)}",
        else: bytes(done)

    rate = if stage == "download", do: "  #{bytes(rate(done, elapsed_ms))}/s", else: ""
    "  #{label} #{counts}#{rate}"
  end

  defp bar(done, total) do
    filled = div(@bar_width * min(done, total), total)
    "[" <> String.duplicate("#", filled) <> String.duplicate("-", @bar_width - filled) <> "]"
  end

  defp percent(done, total), do: div(100 * min(done, total), total)

  defp rate(_done, 0), do: 0
  defp rate(done, elapsed_ms), do: div(done * 1000, elapsed_ms)

  # The progress line has no newline: it is erased before anything else is printed.
  defp clear_progress(%__MODULE__{mode: :tty}) do
    if Process.delete({__MODULE__, :dirty}), do: IO.write("\r\e[K")
    :ok
  end

  defp clear_progress(_out), do: :ok

  @doc """
  Prints the summary of a finished build; in quiet mode only the output path.

  `facts` (a finished `Batamanta.Build`) holds `:output`, `:binary` (the helper's
  `:assemble` result), `:payload` (its `:pack` result), `:target`, `:erts`, `:staged`
  (the packed tree), `:libc` and `:config`.
  """
  @spec summary(t(), map()) :: :ok
  def summary(%__MODULE__{mode: :quiet}, %{output: output}), do: Mix.shell().info(output)

  def summary(%__MODULE__{} = out, facts) do
    clear_progress(out)
    Mix.shell().info(summary_text(facts))
  end

  @doc false
  @spec summary_text(map()) :: String.t()
  def summary_text(%{config: config, binary: binary, payload: payload} = facts) do
    %{output: output, target: target, erts: erts, staged: staged, libc: libc} = facts

    """

    #{output}
      size         #{bytes(binary.size)} (payload #{bytes(payload.size)}, #{bytes(payload.uncompressed)} uncompressed)
      target       #{target.triple} (needs libc #{libc})
      erts         #{staged.erts_version} (OTP #{erts.otp_version})
      format       #{config.format} (#{staged.name} #{staged.version})
      mode         #{config.execution_mode}
      compression  zstd #{config.compression}, ratio #{ratio(payload.uncompressed, payload.size)}
      sha256       #{binary.sha256}\
    """
  end

  @doc "How many times smaller the payload is than its tar stream, as `\"2.13:1\"`."
  @spec ratio(non_neg_integer(), non_neg_integer()) :: String.t()
  def ratio(_uncompressed, 0), do: "n/a"

  def ratio(uncompressed, compressed),
    do: :erlang.float_to_binary(uncompressed / compressed, decimals: 2) <> ":1"

  @doc "A duration in microseconds for humans: `4.2 ms`, `312 ms`, `12.5 s`."
  @spec duration(non_neg_integer()) :: String.t()
  def duration(micros) when micros < 10_000, do: "#{Float.round(micros / 1000, 1)} ms"
  def duration(micros) when micros < 10_000_000, do: "#{div(micros, 1000)} ms"
  def duration(micros), do: "#{Float.round(micros / 1_000_000, 1)} s"

  @doc "A byte count for humans: `512 B`, `4.2 KiB`, `10.51 MiB`."
  @spec bytes(non_neg_integer()) :: String.t()
  def bytes(bytes) when bytes < 1024, do: "#{bytes} B"
  def bytes(bytes) when bytes < 1024 * 1024, do: "#{Float.round(bytes / 1024, 1)} KiB"
  def bytes(bytes), do: "#{Float.round(bytes / (1024 * 1024), 2)} MiB"
end
