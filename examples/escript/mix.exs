defmodule HelloEscript.MixProject do
  use Mix.Project

  def project do
    [
      app: :hello_escript,
      version: "0.1.0",
      elixir: "~> 1.14",
      deps: deps(),
      escript: [main_module: HelloEscript.CLI],
      batamanta: [compression: 3, binary_name: "hello"]
    ]
  end

  def application do
    [extra_applications: [:logger]]
  end

  defp deps do
    [{:batamanta, path: "../..", runtime: false}]
  end
end
