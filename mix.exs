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
      elixirc_paths: elixirc_paths(Mix.env()),
      description: "Turns any Elixir project into one self-contained executable.",
      package: package(),
      docs: docs(),
      source_url: @source_url
    ]
  end

  # The tests' HTTP server and OTP fixtures.
  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_env), do: ["lib"]

  # batamanta runs inside `mix`, never as an application of its own; :crypto checks the
  # prebuilt artifacts' sha256 (and hashes fixtures in the test support code).
  def application do
    [extra_applications: [:crypto]]
  end

  defp package do
    [
      licenses: ["MIT"],
      links: %{"GitHub" => @source_url},
      # priv/native/ holds the prebuilt helper and dispensers with their MANIFEST, which
      # `scripts/package` builds and adds (it is not in git). The rest is what `mix compile`
      # needs to build them from source on the user's machine. Tests/ is there because
      # SwiftPM refuses to load a manifest whose test targets have no directory; priv/bin/
      # is build output and is left out.
      files: ~w(lib Package.swift Sources Tests scripts/zstd-decoder scripts/debian-source
                priv/banner.png priv/native docs .formatter.exs mix.exs README.md LICENSE)
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
