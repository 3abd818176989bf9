defmodule HelloCli.MixProject do
  use Mix.Project

  def project do
    [
      app: :hello_cli,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: deps(),
      batamanta: [execution_mode: :cli, compression: 3, binary_name: "hello"]
    ]
  end

  def application do
    [extra_applications: [:logger], mod: {HelloCli.Application, []}]
  end

  defp deps do
    [{:batamanta, path: "../..", runtime: false}]
  end
end
