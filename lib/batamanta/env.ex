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

  @doc """
  The XDG cache home: `$XDG_CACHE_HOME` when it is an absolute path (the
  specification says to ignore a relative one), else `$HOME/.cache`; `nil` when
  neither is set.
  """
  @spec cache_home(t()) :: Path.t() | nil
  def cache_home(env) do
    case {value(env, "XDG_CACHE_HOME"), value(env, "HOME")} do
      {"/" <> _ = xdg, _home} -> xdg
      {_xdg, nil} -> nil
      {_xdg, home} -> Path.join(Path.expand(home), ".cache")
    end
  end

  @doc "Whether `name` is set to a non-empty value in `env`."
  @spec set?(t(), String.t()) :: boolean()
  def set?(env, name), do: value(env, name) != nil
end
