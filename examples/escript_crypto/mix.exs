defmodule HelloCrypto.MixProject do
  use Mix.Project

  def project do
    [
      app: :hello_crypto,
      version: "0.1.0",
      elixir: "~> 1.14",
      deps: deps(),
      escript: [main_module: HelloCrypto.CLI],
      batamanta: [compression: 3, binary_name: "sha256"]
    ]
  end

  def application do
    [extra_applications: [:crypto]]
  end

  defp deps do
    [{:batamanta, path: "../..", runtime: false}]
  end
end
