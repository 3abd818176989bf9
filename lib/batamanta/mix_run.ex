defmodule Batamanta.MixRun do
  @moduledoc """
  Runs `mix` in a subprocess in the project directory, for `Batamanta.Release` and
  `Batamanta.Escript`.

  The subprocess runs with `MIX_ENV=prod` in the environment the helper's
  `:sanitize_env` returns, with the running Elixir's and the builder OTP's `bin`
  directories first on `PATH`, so the build embeds the same runtime that compiled it
  and no version-manager shim is involved.
  """

  alias Batamanta.{ERTS, Native}

  @type env :: [{String.t(), String.t() | nil}]

  @doc """
  The environment for the build subprocess: `{name, value}` pairs, `nil` values unset.
  """
  @spec build_env(Native.t(), ERTS.t(), %{String.t() => String.t()}) ::
          {:ok, env()} | Native.error()
  def build_env(native, %ERTS{} = erts, env) do
    args = %{
      env: Enum.to_list(env),
      prepend_path: [elixir_bin_dir(), Path.join(erts.root, "bin")]
    }

    with {:ok, %{set: set, unset: unset}} <- Native.request(native, :sanitize_env, args) do
      {:ok, set ++ Enum.map(unset, &{&1, nil})}
    end
  end

  @doc """
  Runs `mix args` in `opts[:cd]` with `env`; returns its output, or an error naming
  `opts[:command]` (by default `` `MIX_ENV=prod mix ARGS` ``) and the output.
  """
  @spec run([String.t()], env(), keyword()) :: {:ok, String.t()} | {:error, String.t()}
  def run(args, env, opts) do
    cd = Keyword.fetch!(opts, :cd)
    command = Keyword.get(opts, :command, "`MIX_ENV=prod mix #{Enum.join(args, " ")}`")
    mix = Path.join(elixir_bin_dir(), "mix")

    case System.cmd(mix, args, cd: cd, env: env, stderr_to_stdout: true) do
      {output, 0} ->
        {:ok, output}

      {output, status} ->
        {:error, "#{command} in #{cd} failed with exit status #{status}:\n\n#{output}"}
    end
  end

  # Elixir installs put `mix` next to `elixir` in <prefix>/bin, two levels above the
  # elixir application's directory.
  defp elixir_bin_dir do
    :elixir |> :code.lib_dir() |> to_string() |> Path.join("../../bin") |> Path.expand()
  end
end
