defmodule Batamanta.BannerTest do
  use ExUnit.Case, async: true

  alias Batamanta.Banner

  defp protocol(env, opts \\ []) do
    Banner.protocol(env, Keyword.get(opts, :tty, true), Keyword.get(opts, :img2sixel, false))
  end

  @xterm %{"TERM" => "xterm-256color"}

  test "never on a non-TTY or in CI" do
    assert protocol(%{"TERM" => "xterm-kitty"}, tty: false) == :none
    assert protocol(%{"TERM" => "xterm-kitty", "CI" => "true"}) == :none
    assert protocol(Map.put(@xterm, "CI", "1"), img2sixel: true) == :none
  end

  test "kitty graphics where the terminal advertises it" do
    assert protocol(%{"TERM" => "xterm-kitty"}) == :kitty
    assert protocol(Map.put(@xterm, "KITTY_WINDOW_ID", "1")) == :kitty
    assert protocol(%{"TERM" => "xterm-ghostty", "TERM_PROGRAM" => "ghostty"}) == :kitty
    assert protocol(Map.put(@xterm, "KONSOLE_VERSION", "230804")) == :kitty
  end

  test "iTerm2 inline images where the terminal advertises them" do
    assert protocol(Map.put(@xterm, "TERM_PROGRAM", "iTerm.app")) == :iterm
    assert protocol(Map.put(@xterm, "TERM_PROGRAM", "WezTerm")) == :iterm
    assert protocol(Map.put(@xterm, "LC_TERMINAL", "iTerm2")) == :iterm
    assert protocol(Map.put(@xterm, "TERM_PROGRAM", "mintty")) == :iterm
  end

  test "sixel needs both img2sixel and a sixel terminal" do
    assert protocol(%{"TERM" => "foot"}, img2sixel: true) == :sixel
    assert protocol(%{"TERM" => "mlterm"}, img2sixel: true) == :sixel
    assert protocol(%{"TERM" => "xterm-sixel"}, img2sixel: true) == :sixel
    assert protocol(%{"TERM" => "foot"}, img2sixel: false) == :text
    assert protocol(@xterm, img2sixel: true) == :text
  end

  test "text everywhere else" do
    assert protocol(@xterm) == :text
    assert protocol(%{"TERM" => "dumb", "TERM_PROGRAM" => "iTerm.app"}) == :text
    assert protocol(%{"TERM" => "xterm-kitty", "NO_COLOR" => "1"}) == :text
    assert protocol(%{}) == :text
  end

  test "text inside tmux or screen, where images do not pass through" do
    assert protocol(%{"TERM" => "tmux-256color", "KITTY_WINDOW_ID" => "3"}) == :text
    assert protocol(%{"TERM" => "screen", "TERM_PROGRAM" => "iTerm.app"}) == :text
    assert protocol(Map.merge(@xterm, %{"TMUX" => "/tmp/tmux-0/default,1,0"})) == :text
  end

  describe "render/2" do
    setup do
      %{png: File.read!(Banner.image_path())}
    end

    test "the image ships in priv and is a small PNG", %{png: png} do
      assert <<0x89, "PNG", _::binary>> = png
      assert byte_size(png) < 8_192
    end

    test "kitty sends the PNG base64 in chunks of at most 4096 bytes", %{png: png} do
      data = png |> :binary.copy(4) |> then(&Banner.render(:kitty, &1)) |> IO.iodata_to_binary()
      chunks = Regex.scan(~r/\e_G([^;]*);([^\e]*)\e\\/, data, capture: :all_but_first)
      assert [["a=T,f=100,m=1", _] | _] = chunks
      assert List.last(chunks) |> hd() == "m=0"
      assert Enum.all?(chunks, fn [_, payload] -> byte_size(payload) <= 4096 end)
      encoded = Enum.map_join(chunks, fn [_, payload] -> payload end)
      assert Base.decode64!(encoded) == :binary.copy(png, 4)
    end

    test "iTerm2 sends one OSC 1337 sequence", %{png: png} do
      data = IO.iodata_to_binary(Banner.render(:iterm, png))
      assert data =~ "\e]1337;File=inline=1;size=#{byte_size(png)};"
      assert data =~ Base.encode64(png) <> "\a"
    end

    test "text has no escape codes", %{png: png} do
      text = IO.iodata_to_binary(Banner.render(:text, png))
      assert text =~ "batamanta"
      refute text =~ "\e"
      assert Banner.render(:none, png) == []
    end
  end
end
