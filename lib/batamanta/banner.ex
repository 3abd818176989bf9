defmodule Batamanta.Banner do
  @moduledoc """
  The banner `mix batamanta` shows first (`show_banner: true`, `--no-banner` to hide).

  Terminals do not answer "can you draw images?" without an interactive query, so the
  choice is made from what they advertise in the environment, by `protocol/3`:

    * `:kitty` - the kitty graphics protocol (kitty, ghostty, Konsole);
    * `:iterm` - the iTerm2 inline-image protocol (iTerm2, WezTerm, mintty, VS Code);
    * `:sixel` - sixel through `img2sixel` (libsixel), when it is installed and the
      terminal is one known to draw sixel (foot, mlterm, contour, yaft, or a `TERM`
      that names sixel);
    * `:text` - a few lines of text, everywhere else;
    * `:none` - not a terminal, or CI.

  Inside tmux or screen images are not passed through reliably, so the text banner is
  used there.
  """

  alias Batamanta.{Env, Output}

  @type protocol :: :kitty | :iterm | :sixel | :text | :none

  @image "banner.png"

  @doc "Shows the banner when `show_banner` is on and output is not quiet."
  @spec show(Batamanta.Config.t(), Output.t()) :: :ok
  def show(%{show_banner: false}, _out), do: :ok
  def show(_config, %Output{mode: :quiet}), do: :ok

  def show(_config, %Output{tty?: tty?}) do
    protocol = protocol(System.get_env(), tty?, img2sixel() != nil)
    # img2sixel reads the image itself, and text draws none.
    png = if protocol in [:kitty, :iterm], do: File.read!(image_path()), else: ""

    case render(protocol, png) do
      [] -> :ok
      banner -> banner |> IO.iodata_to_binary() |> String.trim_trailing() |> Mix.shell().info()
    end
  end

  @doc """
  Picks how to draw the banner from an env map, whether stdout is a terminal, and
  whether `img2sixel` is installed.
  """
  @spec protocol(%{String.t() => String.t()}, boolean(), boolean()) :: protocol()
  def protocol(env, tty?, img2sixel?) do
    cond do
      not tty? or Output.ci?(env) -> :none
      multiplexed?(env) or not Env.set?(env, "TERM") or Output.colorless?(env) -> :text
      kitty?(env) -> :kitty
      iterm?(env) -> :iterm
      img2sixel? and sixel?(env) -> :sixel
      true -> :text
    end
  end

  defp multiplexed?(env) do
    Env.set?(env, "TMUX") or String.starts_with?(env["TERM"] || "", ["screen", "tmux"])
  end

  # WezTerm also speaks kitty graphics, but its iTerm2 support is the complete one.
  defp kitty?(env) do
    Env.set?(env, "KITTY_WINDOW_ID") or env["TERM"] in ["xterm-kitty", "xterm-ghostty"] or
      env["TERM_PROGRAM"] == "ghostty" or Env.set?(env, "KONSOLE_VERSION")
  end

  defp iterm?(env) do
    env["TERM_PROGRAM"] in ["iTerm.app", "WezTerm", "mintty", "vscode"] or
      env["LC_TERMINAL"] == "iTerm2" or Env.set?(env, "WEZTERM_EXECUTABLE")
  end

  defp sixel?(env) do
    term = env["TERM"] || ""

    String.starts_with?(term, ["foot", "mlterm", "contour", "yaft"]) or
      String.contains?(term, "sixel") or env["TERM_PROGRAM"] in ["contour", "foot"]
  end

  @doc "The bytes that draw the banner with `protocol`; `png` is the image."
  @spec render(protocol(), binary()) :: iodata()
  def render(:none, _png), do: []
  def render(:text, _png), do: text()
  def render(:kitty, png), do: [kitty(png), "\n", text_line()]
  def render(:iterm, png), do: [iterm(png), "\n", text_line()]

  def render(:sixel, png) do
    case System.cmd(img2sixel(), [image_path()], stderr_to_stdout: true) do
      {sixel, 0} -> [sixel, text_line()]
      _failed -> render(:text, png)
    end
  end

  # Kitty takes the base64 data in chunks of at most 4096 bytes; m=1 means more follow.
  defp kitty(png) do
    chunks = png |> Base.encode64() |> chunk()
    last = length(chunks) - 1

    chunks
    |> Enum.with_index()
    |> Enum.map(fn {data, index} ->
      control = if index == 0, do: "a=T,f=100,", else: ""
      more = if index == last, do: 0, else: 1
      ["\e_G", control, "m=#{more};", data, "\e\\"]
    end)
  end

  defp chunk(<<part::binary-size(4096), rest::binary>>) when rest != "",
    do: [part | chunk(rest)]

  defp chunk(data), do: [data]

  defp iterm(png) do
    [
      "\e]1337;File=inline=1;size=#{byte_size(png)};preserveAspectRatio=1:",
      Base.encode64(png),
      "\a"
    ]
  end

  defp text do
    """
       ___/\\___
      `--.  .--'   batamanta #{version()}
          \\/       one executable from an Elixir project
    """
  end

  defp text_line, do: "batamanta #{version()}\n"

  defp version do
    Application.load(:batamanta)
    to_string(Application.spec(:batamanta, :vsn) || "")
  end

  defp img2sixel, do: System.find_executable("img2sixel")

  @doc "The banner image shipped in batamanta's `priv/`."
  @spec image_path() :: Path.t()
  def image_path do
    from_app =
      case :code.priv_dir(:batamanta) do
        {:error, _} -> nil
        dir -> Path.join(to_string(dir), @image)
      end

    if from_app && File.regular?(from_app),
      do: from_app,
      else: Path.expand("../../priv/#{@image}", __DIR__)
  end
end
