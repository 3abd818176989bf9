defmodule TuiMenu.MixProject do
  use Mix.Project

  def project do
    [
      app: :tui_menu,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: deps(),
      batamanta: [execution_mode: :tui, compression: 3, binary_name: "menu"]
    ]
  end

  def application do
    [extra_applications: [:logger], mod: {TuiMenu.Application, []}]
  end

  defp deps do
    [{:batamanta, path: "../..", runtime: false}]
  end
end
