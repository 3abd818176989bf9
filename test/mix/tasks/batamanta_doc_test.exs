defmodule Mix.Tasks.BatamantaDocTest do
  use ExUnit.Case, async: true

  # mix.exs keys whose flag is not the key with dashes.
  @flags %{execution_mode: "--mode", show_banner: "--no-banner"}

  defp moduledoc(module) do
    {:docs_v1, _, _, _, %{"en" => doc}, _, _} = Code.fetch_docs(module)
    doc
  end

  test "mix help batamanta documents every option, its flag and default" do
    doc = moduledoc(Mix.Tasks.Batamanta)

    for key <- Batamanta.Config.keys() do
      flag = Map.get(@flags, key, "--" <> String.replace(to_string(key), "_", "-"))
      documented = ~r/`#{key}`\s+\(`#{Regex.escape(flag)}`/
      assert doc =~ documented, "#{key} / #{flag} is not documented"
    end

    for flag <- ~w(--quiet -q -o -c -m SOURCE_DATE_EPOCH BATAMANTA_ERTS_SOURCE NO_COLOR),
        do: assert(doc =~ flag)

    assert length(Regex.scan(~r/default/i, doc)) >= 10
    assert doc =~ "## Examples"
  end

  test "mix help batamanta.inspect documents its flag" do
    assert moduledoc(Mix.Tasks.Batamanta.Inspect) =~ "--no-list"
  end
end
