defmodule Batamanta.Config do
  @moduledoc """
  The resolved configuration of one `mix batamanta` run.

  It merges the `batamanta:` keyword list of the project's `mix.exs` with the command
  line flags (flags win) and the environment, and validates every value. Resolution is
  pure: `resolve/4` takes the project config, argv, an env map and the project root, so
  it is tested without Mix state. See `Mix.Tasks.Batamanta` for the user documentation
  of every option.
  """

  @modes [:cli, :tui, :daemon]
  @formats [:release, :escript]
  @targets [
    :auto,
    :ubuntu_22_04_x86_64,
    :ubuntu_22_04_arm64,
    :alpine_3_19_x86_64,
    :alpine_3_19_arm64,
    :macos_12_x86_64,
    :macos_12_arm64,
    :windows_x86_64
  ]
  @oses [:linux, :macos, :windows]
  @arches [:x86_64, :aarch64]
  @libcs [:gnu, :musl]
  @compression 1..19

  @keys [
    :execution_mode,
    :format,
    :compression,
    :binary_name,
    :output,
    :otp_version,
    :erts_target,
    :force_os,
    :force_arch,
    :force_libc,
    :erts_source,
    :escript_module,
    :release,
    :show_banner
  ]

  @switches [
    mode: :string,
    format: :string,
    compression: :integer,
    binary_name: :string,
    output: :string,
    otp_version: :string,
    erts_target: :string,
    force_os: :string,
    force_arch: :string,
    force_libc: :string,
    erts_source: :string,
    escript_module: :string,
    release: :string,
    banner: :boolean,
    quiet: :boolean
  ]

  @aliases [o: :output, q: :quiet, m: :mode, c: :compression]

  # Flags whose name differs from the mix.exs key.
  @flag_keys %{mode: :execution_mode, banner: :show_banner}

  defstruct app: nil,
            version: nil,
            project_root: nil,
            execution_mode: :cli,
            format: :release,
            compression: 9,
            binary_name: nil,
            output: nil,
            otp_version: :auto,
            erts_target: :auto,
            force_os: nil,
            force_arch: nil,
            force_libc: nil,
            erts_source: nil,
            escript_module: nil,
            release: nil,
            releases: [],
            show_banner: true,
            quiet: false,
            source_date_epoch: 0

  @type t :: %__MODULE__{}

  @doc "The valid `erts_target` values."
  def targets, do: @targets

  @doc "The keys accepted under `batamanta:` in mix.exs."
  def keys, do: @keys

  @doc """
  Resolves the configuration, raising `Mix.Error` with the message of `resolve/4`.
  """
  @spec resolve!(keyword(), [String.t()], %{String.t() => String.t()}, Path.t()) :: t()
  def resolve!(project, argv, env, root) do
    case resolve(project, argv, env, root) do
      {:ok, config} -> config
      {:error, message} -> Mix.raise(message)
    end
  end

  @doc """
  Resolves the configuration from the project config, argv, an env map and the project
  root. Returns `{:error, message}` naming the offending option and its valid values.
  """
  @spec resolve(keyword(), [String.t()], %{String.t() => String.t()}, Path.t()) ::
          {:ok, t()} | {:error, String.t()}
  def resolve(project, argv, env, root) do
    with {:ok, file_opts} <- file_options(project),
         {:ok, flag_opts} <- flag_options(argv),
         {:ok, epoch} <- source_date_epoch(env),
         opts = env |> env_options() |> Keyword.merge(file_opts) |> Keyword.merge(flag_opts),
         {:ok, config} <- apply_options(defaults(project, root, epoch), opts) do
      finish(config, opts, project)
    end
  end

  defp defaults(project, root, epoch) do
    %__MODULE__{
      app: project[:app],
      version: project[:version],
      project_root: root,
      releases: Keyword.keys(project[:releases] || []),
      source_date_epoch: epoch
    }
  end

  defp apply_options(config, opts) do
    Enum.reduce_while(opts, {:ok, config}, fn {key, value}, {:ok, config} ->
      case validate(key, value) do
        {:ok, value} -> {:cont, {:ok, Map.put(config, key, value)}}
        {:error, message} -> {:halt, {:error, message}}
      end
    end)
  end

  defp file_options(project) do
    opts = project[:batamanta] || []

    if Keyword.keyword?(opts) do
      case Enum.find(opts, fn {key, _} -> key not in @keys end) do
        nil -> {:ok, opts}
        {key, _} -> {:error, unknown_key(key)}
      end
    else
      {:error, "the batamanta: option in mix.exs must be a keyword list, got: #{inspect(opts)}"}
    end
  end

  defp unknown_key(key) do
    name = to_string(key)
    closest = Enum.max_by(@keys, &String.jaro_distance(to_string(&1), name))

    hint =
      if String.jaro_distance(to_string(closest), name) > 0.7,
        do: " Did you mean #{inspect(closest)}?",
        else: ""

    "unknown batamanta option #{inspect(key)} in mix.exs.#{hint} Valid options: " <>
      Enum.map_join(@keys, ", ", &inspect/1)
  end

  defp env_options(env) do
    case non_empty(env["BATAMANTA_ERTS_SOURCE"]) do
      nil -> []
      url -> [erts_source: url]
    end
  end

  defp flag_options(argv) do
    {flags, rest} = OptionParser.parse!(argv, strict: @switches, aliases: @aliases)

    if rest == [] do
      {:ok, Enum.map(flags, &flag_to_option/1)}
    else
      {:error, "mix batamanta takes no positional arguments, got: #{Enum.join(rest, " ")}"}
    end
  rescue
    error in OptionParser.ParseError ->
      {:error, Exception.message(error) <> ". See `mix help batamanta` for the flags"}
  end

  defp flag_to_option({flag, value}) when flag in [:quiet, :banner, :compression],
    do: {Map.get(@flag_keys, flag, flag), value}

  defp flag_to_option({flag, value}),
    do: {Map.get(@flag_keys, flag, flag), {:flag, value}}

  defp source_date_epoch(env) do
    case non_empty(env["SOURCE_DATE_EPOCH"]) do
      nil ->
        {:ok, 0}

      value ->
        case Integer.parse(value) do
          {epoch, ""} when epoch >= 0 ->
            {:ok, epoch}

          _ ->
            {:error,
             "SOURCE_DATE_EPOCH must be a non-negative integer (seconds), got: #{inspect(value)}"}
        end
    end
  end

  defp validate(:execution_mode, value), do: one_of(:execution_mode, "--mode", value, @modes)
  defp validate(:format, value), do: one_of(:format, "--format", value, @formats)
  defp validate(:erts_target, value), do: one_of(:erts_target, "--erts-target", value, @targets)
  defp validate(:force_os, value), do: one_of(:force_os, "--force-os", value, @oses)
  defp validate(:force_arch, value), do: one_of(:force_arch, "--force-arch", value, @arches)
  defp validate(:force_libc, value), do: one_of(:force_libc, "--force-libc", value, @libcs)

  defp validate(:compression, level) when is_integer(level) and level in @compression,
    do: {:ok, level}

  defp validate(:compression, level) do
    {:error,
     "invalid compression #{inspect(level)} (option compression: / --compression): " <>
       "it must be an integer from #{@compression.first} to #{@compression.last} " <>
       "(zstd level; 3 is fast, 9 is the default, 19 is smallest)"}
  end

  defp validate(:binary_name, value) do
    name = unwrap(value)

    cond do
      not is_binary(name) or name == "" ->
        {:error,
         "invalid binary_name #{inspect(name)} (option binary_name: / --binary-name): " <>
           "it must be a non-empty string such as \"hello\""}

      String.contains?(name, ["/", <<0>>]) ->
        {:error,
         "invalid binary_name #{inspect(name)} (option binary_name: / --binary-name): " <>
           "it is a file name and cannot contain \"/\"; use output: / --output to choose the directory"}

      true ->
        {:ok, name}
    end
  end

  defp validate(:output, value) do
    case unwrap(value) do
      path when is_binary(path) and path != "" ->
        {:ok, path}

      other ->
        {:error,
         "invalid output #{inspect(other)} (option output: / --output): it must be a file path"}
    end
  end

  defp validate(:otp_version, value) do
    case unwrap(value) do
      :auto ->
        {:ok, :auto}

      "auto" ->
        {:ok, :auto}

      version when is_binary(version) ->
        if version =~ ~r/^\d+(\.\d+)*$/,
          do: {:ok, version},
          else: otp_version_error(version)

      other ->
        otp_version_error(other)
    end
  end

  defp validate(:erts_source, value) do
    case unwrap(value) do
      host when host in [:host, "host"] ->
        {:ok, :host}

      url when is_binary(url) ->
        if url =~ ~r{^(https?|file)://.+},
          do: {:ok, String.trim_trailing(url, "/")},
          else:
            {:error,
             "invalid erts_source #{inspect(url)} (option erts_source: / --erts-source / " <>
               "BATAMANTA_ERTS_SOURCE): it must be :host (this machine's runtime) or an " <>
               "http://, https:// or file:// base URL"}

      other ->
        {:error, "invalid erts_source #{inspect(other)}: it must be a URL string"}
    end
  end

  defp validate(:escript_module, value) do
    case unwrap(value) do
      module when is_atom(module) and module not in [nil, true, false] ->
        {:ok, module}

      "" ->
        {:error, "invalid escript_module \"\" (option escript_module: / --escript-module)"}

      name when is_binary(name) ->
        {:ok, Module.concat([name])}

      other ->
        {:error,
         "invalid escript_module #{inspect(other)} (option escript_module: / --escript-module): " <>
           "it must be a module such as MyApp.CLI"}
    end
  end

  defp validate(:release, value) do
    case unwrap(value) do
      name when is_atom(name) and name not in [nil, true, false] ->
        {:ok, name}

      name when is_binary(name) and name != "" ->
        {:ok, name}

      other ->
        {:error,
         "invalid release #{inspect(other)} (option release: / --release): give a release name"}
    end
  end

  defp validate(key, value) when key in [:show_banner, :quiet] do
    if is_boolean(value),
      do: {:ok, value},
      else: {:error, "invalid #{key} #{inspect(value)}: it must be true or false"}
  end

  defp otp_version_error(value) do
    {:error,
     "invalid otp_version #{inspect(value)} (option otp_version: / --otp-version): " <>
       "it must be :auto or an OTP version string such as \"25.2.3\" or \"26.2.5\""}
  end

  # Flags arrive as strings and are matched against the valid atoms by name, so a
  # mistyped flag never creates an atom; mix.exs values must be the atoms themselves.
  defp one_of(key, flag, {:flag, value}, valid) do
    case Enum.find(valid, &(Atom.to_string(&1) == value)) do
      nil -> {:error, invalid_choice(key, flag, value, valid)}
      atom -> {:ok, atom}
    end
  end

  defp one_of(key, flag, value, valid) do
    if value in valid,
      do: {:ok, value},
      else: {:error, invalid_choice(key, flag, value, valid)}
  end

  defp invalid_choice(key, flag, value, valid) do
    "invalid #{key} #{inspect(value)} (option #{key}: / #{flag}). Valid values: " <>
      Enum.map_join(valid, ", ", &inspect/1)
  end

  defp unwrap({:flag, value}), do: value
  defp unwrap(value), do: value

  defp finish(config, opts, project) do
    escript = project[:escript]

    config =
      if Keyword.has_key?(opts, :format) or escript == nil,
        do: config,
        else: %{config | format: :escript}

    main_module = config.escript_module || (escript && escript[:main_module])

    cond do
      config.format == :escript and main_module == nil ->
        {:error,
         "format :escript needs a main module: add `escript: [main_module: MyApp.CLI]` to " <>
           "the project in mix.exs, or set escript_module: / --escript-module"}

      config.format == :escript ->
        {:ok, %{config | escript_module: main_module}}

      true ->
        {:ok, config}
    end
  end

  @doc "An environment variable's value, or `nil` when it is unset or empty."
  @spec non_empty(String.t() | nil) :: String.t() | nil
  def non_empty(nil), do: nil
  def non_empty(""), do: nil
  def non_empty(value), do: value
end
