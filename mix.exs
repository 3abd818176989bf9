defmodule Batamanta.MixProject do
  use Mix.Project

  @version "0.1.0"
  @source_url "https://github.com/batamanta/batamanta"

  def project do
    [
      app: :batamanta,
      version: @version,
      elixir: "~> 1.14",
      start_permanent: false,
      deps: [],
      compilers: Mix.compilers() ++ [:batamanta_native],
      description: "Turns any Elixir project into one self-contained executable.",
      package: package(),
      docs: docs(),
      source_url: @source_url
    ]
  end

  def application do
    []
  end

  defp package do
    [
      licenses: ["MIT"],
      links: %{"GitHub" => @source_url},
      files: ~w(lib Package.swift Sources docs .formatter.exs mix.exs README.md LICENSE)
    ]
  end

  defp docs do
    [
      main: "Mix.Tasks.Batamanta",
      source_ref: "v#{@version}",
      extras: ["README.md", "docs/FORMAT.md", "docs/PROTOCOL.md"]
    ]
  end
end
