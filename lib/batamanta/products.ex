defmodule Batamanta.Products do
  @moduledoc """
  Where the compiled Swift products are: the helper `batamanta-native` and the
  dispensers, which `Mix.Tasks.Compile.BatamantaNative` puts in batamanta's `priv/bin/`.

  A product is looked up in batamanta's `priv/bin/` (through `:code.priv_dir/1`), then
  in the source tree's `priv/bin/`; the helper can be overridden with
  `$BATAMANTA_NATIVE`.
  """

  alias Batamanta.Env
  alias Mix.Tasks.Compile.BatamantaNative

  @doc """
  The path of the helper executable, or a `Mix.Error` that says how to get one.
  """
  @spec native_helper!() :: Path.t()
  def native_helper! do
    case native_helper() do
      {:ok, path} ->
        path

      {:error, tried} ->
        Mix.raise("""
        batamanta's helper executable is missing; looked at:

        #{Enum.map_join(tried, "\n", &"    #{&1}")}

        It is built by `mix compile` (the :batamanta_native compiler), which needs a Swift 6
        toolchain (https://www.swift.org/install/). Run `mix deps.compile batamanta` in
        your project, or `mix compile` in batamanta itself, and check its output.
        """)
    end
  end

  @doc "The helper executable: `$BATAMANTA_NATIVE`, else the compiled product."
  @spec native_helper() :: {:ok, Path.t()} | {:error, [Path.t()]}
  def native_helper do
    case Env.value(System.get_env(), "BATAMANTA_NATIVE") do
      nil -> path("batamanta-native")
      override -> if File.regular?(override), do: {:ok, override}, else: {:error, [override]}
    end
  end

  @doc """
  The path of the product `name` in `priv/bin/`, or the places looked at.
  """
  @spec path(String.t()) :: {:ok, Path.t()} | {:error, [Path.t()]}
  def path(name) do
    candidates = Enum.uniq(candidates(name))

    case Enum.find(candidates, &File.regular?/1) do
      nil -> {:error, candidates}
      path -> {:ok, path}
    end
  end

  @doc """
  Says that the product `name` is missing from the places `tried`.
  """
  @spec missing(String.t(), [Path.t()]) :: String.t()
  def missing(name, tried) do
    "#{name} is missing (looked at #{Enum.join(tried, ", ")}); run `mix compile` in " <>
      "batamanta (needs a Swift 6 toolchain)"
  end

  # Mix links a dependency's priv/ into _build only if it existed when the dependency
  # was first compiled, and the compiler creates it, so the source tree is checked too.
  defp candidates(name) do
    from_code =
      case :code.priv_dir(:batamanta) do
        {:error, _} -> []
        dir -> [Path.join([to_string(dir), "bin", name])]
      end

    from_code ++ [BatamantaNative.output_path(name)]
  end
end
