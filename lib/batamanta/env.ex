defmodule Batamanta.Env do
  @moduledoc """
  Reading environment variables the way batamanta and its dispenser do: a variable
  set to the empty string counts as unset, as it does for `$XDG_CACHE_HOME` in the XDG
  base directory specification, so `FOO= mix batamanta` means the default.
  """

  @type t :: %{String.t() => String.t()}

  @doc "The value of `name` in `env`, or `nil` when it is unset or empty."
  @spec value(t(), String.t()) :: String.t() | nil
  def value(env, name) do
    case env[name] do
      "" -> nil
      value -> value
    end
  end

  @doc "Whether `name` is set to a non-empty value in `env`."
  @spec set?(t(), String.t()) :: boolean()
  def set?(env, name), do: value(env, name) != nil
end
