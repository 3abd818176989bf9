defmodule Batamanta.BootScript do
  @moduledoc """
  Derives `batamanta.boot` from a release's `start.script`.

  A release started with `bin/app start` runs `-s elixir start_cli` only after the boot
  script has started every application, so `System.argv/0` is still empty inside the
  application's `start/2`. The derived boot script calls `:elixir.start_cli/0` right
  after Elixir and Logger are started and before the project's own applications, so
  the arguments after `-extra --no-halt --` are already `System.argv/0` when they start.

  It also forgets what the binary leaves out (`Batamanta.UnusedApps`): the code paths,
  loading and starting of dropped applications and the modules of both those and the
  `.app`-only ones, which would otherwise fail the boot in embedded mode.
  """

  alias Batamanta.UnusedApps

  @cli {:apply, {:elixir, :start_cli, []}}

  @doc "Reads `start.script`, patches it and writes `batamanta.boot` next to it."
  @spec write(Path.t(), UnusedApps.t()) :: :ok | {:error, String.t()}
  def write(release_dir, unused \\ %UnusedApps{}) do
    script_path = Path.join(release_dir, "start.script")

    with {:ok, [script]} <- consult(script_path),
         {:ok, patched} <- patch(script) do
      File.write!(
        Path.join(release_dir, "batamanta.boot"),
        :erlang.term_to_binary(forget(patched, unused))
      )
    else
      {:error, message} when is_binary(message) -> {:error, "#{script_path}: #{message}"}
    end
  end

  defp consult(path) do
    case :file.consult(path) do
      {:ok, terms} -> {:ok, terms}
      {:error, reason} -> {:error, "cannot read the boot script (#{inspect(reason)})"}
    end
  end

  @doc """
  Inserts the `:elixir.start_cli/0` call after the later of the instructions that start
  `:elixir` and `:logger`.
  """
  @spec patch(tuple()) :: {:ok, tuple()} | {:error, String.t()}
  def patch({:script, id, instructions}) do
    index =
      instructions
      |> Enum.with_index()
      |> Enum.filter(fn {instruction, _} -> starts?(instruction, [:elixir, :logger]) end)
      |> Enum.map(fn {_, index} -> index end)
      |> Enum.max(fn -> nil end)

    cond do
      Enum.member?(instructions, @cli) ->
        {:ok, {:script, id, instructions}}

      index == nil ->
        {:error, "it never starts the :elixir application; is this an Elixir release?"}

      true ->
        {:ok, {:script, id, List.insert_at(instructions, index + 1, @cli)}}
    end
  end

  def patch(_other), do: {:error, "it is not a {script, Id, Instructions} term"}

  @doc "Removes from `script` what belongs to the applications and modules of `unused`."
  @spec forget(tuple(), UnusedApps.t()) :: tuple()
  def forget({:script, id, instructions}, %UnusedApps{dropped: dropped, modules: modules}) do
    modules = MapSet.new(modules)

    {:script, id,
     Enum.flat_map(instructions, fn
       {:path, paths} ->
         [{:path, Enum.reject(paths, &(app_of_path(&1) in dropped))}]

       {:primLoad, loaded} ->
         [{:primLoad, Enum.reject(loaded, &MapSet.member?(modules, &1))}]

       {:apply, {:application, :load, [{:application, app, _spec}]}} = instruction ->
         if app in dropped, do: [], else: [instruction]

       {:apply, {:application, :start_boot, [app | _]}} = instruction ->
         if app in dropped, do: [], else: [instruction]

       instruction ->
         [instruction]
     end)}
  end

  # "$RELEASE_LIB/iex-1.14.0/ebin" -> :iex
  defp app_of_path(path) do
    path
    |> to_string()
    |> Path.dirname()
    |> Path.basename()
    |> String.replace(~r/-[^-]*$/, "")
    |> String.to_atom()
  end

  defp starts?({:apply, {:application, :start_boot, [app | _]}}, apps), do: app in apps
  defp starts?(_instruction, _apps), do: false
end
