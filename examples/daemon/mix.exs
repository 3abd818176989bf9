defmodule HelloDaemon.MixProject do
  use Mix.Project

  def project do
    [
      app: :hello_daemon,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: deps(),
      batamanta: [execution_mode: :daemon, compression: 3, binary_name: "hello_daemon"]
    ]
  end

  def application do
    [extra_applications: [:logger, :inets], mod: {HelloDaemon.Application, []}]
  end

  defp deps do
    [{:batamanta, path: "../..", runtime: false}]
  end
end
