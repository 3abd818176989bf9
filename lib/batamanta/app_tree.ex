defmodule Batamanta.AppTree do
  @moduledoc """
  The applications an escript needs at run time, split by where they come from.

  The walk starts at the project's application and follows `applications` and
  `included_applications` of each `.app`, transitively. An application whose `.app`
  is embedded in the escript (the project, its dependencies, Elixir, Logger...) is
  `embedded`; any other must be an OTP application of the ERTS root
  (`lib/<app>-<vsn>/ebin/<app>.app`) and goes into the minimal runtime as `otp`. An
  `optional_applications` entry that is found nowhere is skipped, as OTP does.

  `elixir.app` lists `:compiler`, so booting Elixir needs `compiler.app`, but none of
  its modules run unless code is compiled at run time (`Code.compile_string/1`,
  `defmodule` inside `Code.eval_string/1`). Measured on examples/escript, its modules
  are 0.44 MB of a 3.8 MB payload at zstd 19. So when only `:elixir` asks for it,
  the compiler is `spec_only` (its `.app` file alone); a project that compiles at run
  time lists `:compiler` in `extra_applications` and gets all of it.
  """

  defstruct embedded: [], otp: []

  @type otp_app :: %{name: atom(), dir: Path.t(), spec_only: boolean()}
  @type t :: %__MODULE__{embedded: [atom()], otp: [otp_app]}

  # What every escript boots with, whatever its .app files say.
  @boot_apps [:kernel, :stdlib]

  @doc """
  Resolves the tree of `app` from the escript's embedded `specs` (app => `.app`
  keyword list) and the OTP applications under `erts_root/lib`.
  """
  @spec resolve(atom(), %{atom() => keyword()}, Path.t()) :: {:ok, t()} | {:error, String.t()}
  def resolve(app, specs, erts_root) do
    if Map.has_key?(specs, app) do
      walk([{app, nil} | Enum.map(@boot_apps, &{&1, nil})], specs, erts_root, %{})
    else
      {:error,
       "the escript has no #{app}.app: batamanta starts from the project's application, " <>
         "so do not set escript: [app: nil] in mix.exs"}
    end
  end

  defp walk([], _specs, _root, seen) do
    {embedded, otp} = Enum.split_with(Map.values(seen), &(&1.dir == :embedded))

    {:ok,
     %__MODULE__{
       embedded: embedded |> Enum.map(& &1.name) |> Enum.sort(),
       otp:
         otp
         |> Enum.map(&%{name: &1.name, dir: &1.dir, spec_only: spec_only?(&1.name, seen)})
         |> Enum.sort_by(& &1.name)
     }}
  end

  defp walk([{app, _parent} | rest], specs, root, seen) when is_map_key(seen, app),
    do: walk(rest, specs, root, seen)

  defp walk([{app, parent} | rest], specs, root, seen) do
    case locate(app, specs, root) do
      {:ok, dir, spec} ->
        optional = spec[:optional_applications] || []

        children =
          Enum.map((spec[:applications] || []) ++ (spec[:included_applications] || []), fn
            child -> {child, {app, child in optional}}
          end)

        entry = %{name: app, dir: dir, needs: Enum.map(children, &elem(&1, 0))}
        walk(rest ++ children, specs, root, Map.put(seen, app, entry))

      :error ->
        case parent do
          {_parent, true} ->
            walk(rest, specs, root, seen)

          _ ->
            {:error, missing(app, parent, root)}
        end
    end
  end

  defp spec_only?(:compiler, seen) do
    seen
    |> Map.values()
    |> Enum.filter(&(:compiler in &1.needs))
    |> Enum.all?(&(&1.name == :elixir))
  end

  defp spec_only?(_app, _seen), do: false

  defp locate(app, specs, root) do
    case specs do
      %{^app => spec} ->
        {:ok, :embedded, spec}

      _ ->
        with [app_file | _] <-
               Path.wildcard(Path.join([root, "lib", "#{app}-*", "ebin", "#{app}.app"])),
             {:ok, [{:application, ^app, spec}]} <- :file.consult(app_file) do
          {:ok, app_file |> Path.dirname() |> Path.dirname(), spec}
        else
          _ -> :error
        end
    end
  end

  defp missing(app, parent, root) do
    needed_by =
      case parent do
        {parent, _optional} -> " needed by #{inspect(parent)}"
        nil -> ""
      end

    "application #{inspect(app)}#{needed_by} is neither in the escript nor an OTP " <>
      "application of #{root}: add it to deps or extra_applications in mix.exs, or " <>
      "install that OTP application"
  end
end
