defmodule Batamanta.Config do
  @moduledoc """
  The resolved configuration of one `mix batamanta` run.

  It merges the `batamanta:` keyword list of the project's `mix.exs` with the command
  line flags (flags win) and the environment, and validates every value. Resolution is
  pure: `resolve/4` takes the project config, argv, an env map and the project root, so
  it is tested without Mix state.

  Every option is one entry of the option table at the top of this module, which also
  makes the option list of `mix help batamanta` (`doc/0`) and the README's table
  (`table/0`).
  """

  alias Batamanta.Env

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
  # The lowest level at which examples/hello_cli fits in 4,100,000 bytes with a 200 KB
  # dispenser: 16 is the first level of zstd's optimal parser, 3.80 MB of payload against
  # 3.98 MB at 12. It costs 3 s of CPU against 0.3 s at 9, which the helper spreads over
  # two cores (see ZstdCompressor).
  @default_compression 16

  # The one table of options. Each entry generates the mix.exs key, the flag (its
  # OptionParser switch and alias), the struct default, the "(option x: / --x)" text
  # of its error messages, the option list of `mix help batamanta` (`doc/0`) and the
  # README table (`table/0`, kept equal by a test). Entries:
  #
  #   * `:type` - `{:in, atoms}` (a flag names one of them), `:string`, `:integer` or
  #     `:boolean`; `{:in, _}` and `:boolean` need no validator, the others have a
  #     `validate/2` clause returning `{:ok, value}` or `{:error, reason}`;
  #   * `:default` - the struct default; `:default_doc` says it in words if needed;
  #   * `:flag` (default: the key), `:alias`, `:env` (a variable that sets the option
  #     below mix.exs and flags), `:file` (`false`: flag only, not a mix.exs key);
  #   * `:values` - the valid values, for the table; `:doc` - the help text.
  @option_table [
    execution_mode: [
      flag: :mode,
      alias: :m,
      type: {:in, @modes},
      default: :cli,
      values: "`:cli`, `:tui`, `:daemon` (see Modes and formats)",
      doc:
        "how the binary runs. In `:cli` mode the app starts as with `bin/app start` and " <>
          "ends the program with `System.halt/1`; `:tui` also keeps the terminal in raw " <>
          "mode while the app runs; `:daemon` runs the app as a background service."
    ],
    format: [
      type: {:in, @formats},
      default: :release,
      default_doc: "`:escript` if the project has `escript:` config, else `:release`",
      values: "`:release`, `:escript`",
      doc: """
      what is packed. An escript binary holds the escript (built with `mix \
      escript.build` into a temporary path) and a minimal runtime: the emulator, kernel, \
      stdlib and the OTP applications of the project's application tree \
      (`extra_applications`, deps), with their NIFs. The compiler's modules are left out \
      unless the tree lists `:compiler` (add it to `extra_applications` if the escript \
      compiles code at run time). NIFs that load system libraries are reported: \
      `:crypto` needs `libcrypto.so.3` on the target. A dependency with a `priv/` \
      directory (a NIF, data files) is shipped as `lib/<app>-<vsn>/{ebin,priv}` beside \
      the escript and put on the code path, so `:code.priv_dir/1` and \
      `:erlang.load_nif/2` work; a `priv/` holding symlinks is refused at build time in \
      favour of `format: :release`.\
      """
    ],
    compression: [
      alias: :c,
      type: :integer,
      default: @default_compression,
      values: "zstd level `#{@compression.first}`..`#{@compression.last}`",
      doc:
        "the zstd level, compressed on every core. `3` builds fastest, `19` gives the smallest binary."
    ],
    binary_name: [
      type: :string,
      default: nil,
      default_doc: "the release's name (the app's for an escript)",
      values: "a file name, no `/`",
      doc: "the name of the output file."
    ],
    output: [
      alias: :o,
      type: :string,
      default: nil,
      default_doc: "`<root>/<name>-<version>-<arch>-<os>`",
      values: "a file path (a directory is refused)",
      doc:
        "the output path, relative to the project root; a directory is refused before the build."
    ],
    otp_version: [
      type: :string,
      default: :auto,
      values: "`:auto` or `\"25.2.3\"`-style string",
      doc: "the OTP release of the runtime; `:auto` is this machine's."
    ],
    erts_target: [
      type: {:in, @targets},
      default: :auto,
      default_doc: "`:auto` (this machine)",
      values: Enum.map_join(tl(@targets), ", ", &"`#{inspect(&1)}`"),
      doc: "the platform the binary runs on."
    ],
    force_os: [
      type: {:in, @oses},
      default: nil,
      default_doc: "from the host",
      values: Enum.map_join(@oses, ", ", &"`#{inspect(&1)}`"),
      doc: "overrides the OS of the target."
    ],
    force_arch: [
      type: {:in, @arches},
      default: nil,
      default_doc: "from the host",
      values: Enum.map_join(@arches, ", ", &"`#{inspect(&1)}`"),
      doc: "overrides the CPU architecture of the target."
    ],
    force_libc: [
      type: {:in, @libcs},
      default: nil,
      default_doc: "from the host",
      values: Enum.map_join(@libcs, ", ", &"`#{inspect(&1)}`"),
      doc: "overrides the C library of the target (Linux only)."
    ],
    erts_source: [
      type: :string,
      env: "BATAMANTA_ERTS_SOURCE",
      default: nil,
      default_doc: "`$BATAMANTA_ERTS_SOURCE`, else Hex's public OTP builds for glibc Linux",
      values:
        "`:host` (this machine's OTP, no network, no warning), or the base URL " <>
          "(`https://`, `http://`, `file://`) of an ERTS mirror",
      doc: """
      where runtimes come from: `:host` (`--erts-source host`) embeds this machine's own \
      OTP with no network access and no warning (for this machine's target only); a URL \
      names a mirror laid out as `<base>/<triple>/SHA256SUMS` and \
      `<base>/<triple>/OTP-<version>.tar.gz`. With the default source unreachable, a \
      build with the default `otp_version`, `erts_target` and `force_*` embeds the host's \
      OTP with a one-line warning; one that names a target or version is an error \
      instead. Runtimes are cached in `$XDG_CACHE_HOME/batamanta/erts`; `mix \
      batamanta.clean` removes them.\
      """
    ],
    escript_module: [
      type: :string,
      default: nil,
      default_doc: "the `main_module` of the project's `escript:` config",
      values: "a module",
      doc: "the escript's main module."
    ],
    release: [
      type: :string,
      default: nil,
      default_doc: "the only release, `default_release`, or the app",
      values: "a release name",
      doc: "which release to build when the project defines several."
    ],
    keep_all: [
      type: :boolean,
      default: false,
      values: "boolean",
      doc: """
      pack the release as `mix release` made it. By default a `:cli` or `:tui` binary \
      leaves out what it provably never runs: applications outside the application tree \
      that no module of the tree names (`:iex`, `:sasl`), the compiler's modules when \
      only Elixir lists `:compiler` and no module compiles code at run time, and the \
      release's shell scripts. The build output says what was left out.\
      """
    ],
    show_banner: [
      flag: :banner,
      type: :boolean,
      default: true,
      values: "boolean",
      doc: """
      show the banner before the build: an image with the kitty graphics or iTerm2 \
      inline-image protocol when the terminal advertises one, sixel through `img2sixel` \
      on sixel terminals, text otherwise; never without a terminal or in CI.\
      """
    ],
    quiet: [
      alias: :q,
      type: :boolean,
      default: false,
      file: false,
      default_doc: "off",
      values: "boolean",
      doc: "print only errors and the output path, no warnings."
    ]
  ]

  @options (for {key, entry} <- @option_table do
              flag = Keyword.get(entry, :flag, key)
              type = Keyword.fetch!(entry, :type)
              default = Keyword.fetch!(entry, :default)

              flag_name =
                "--" <>
                  if(type == :boolean and default == true, do: "no-", else: "") <>
                  String.replace(to_string(flag), "_", "-")

              %{
                key: key,
                flag: flag,
                flag_name: flag_name,
                alias: entry[:alias],
                type: type,
                switch: if(type in [:integer, :boolean], do: type, else: :string),
                default: default,
                default_doc: Keyword.get(entry, :default_doc, "`#{inspect(default)}`"),
                env: entry[:env],
                file?: Keyword.get(entry, :file, true),
                values: Keyword.fetch!(entry, :values),
                doc: Keyword.fetch!(entry, :doc)
              }
            end)

  @keys for option <- @options, option.file?, do: option.key
  @switches for option <- @options, do: {option.flag, option.switch}
  @aliases for option <- @options, option.alias, do: {option.alias, option.flag}
  @by_flag Map.new(@options, &{&1.flag, &1})
  @by_key Map.new(@options, &{&1.key, &1})

  defstruct [app: nil, version: nil, project_root: nil] ++
              Enum.map(@options, &{&1.key, &1.default}) ++
              [releases: [], source_date_epoch: 0]

  @type t :: %__MODULE__{}

  @doc "The valid `erts_target` values."
  def targets, do: @targets

  @doc "The keys accepted under `batamanta:` in mix.exs."
  def keys, do: @keys

  @doc "The options, one map per entry of the option table."
  @spec options() :: [map()]
  def options, do: @options

  @doc "The options as the Markdown list of `mix help batamanta`."
  @spec doc() :: String.t()
  def doc do
    Enum.map_join(@options, "\n", fn option ->
      name = if option.file?, do: "`#{option.key}` (#{flags(option)})", else: flags(option)
      values = if option.type == :boolean, do: "", else: " Values: #{option.values}."
      text = "#{name} - #{option.doc}#{values} Default: #{option.default_doc}."
      "  * #{text}\n"
    end)
  end

  @doc "The options as the Markdown table of the README's Configuration section."
  @spec table() :: String.t()
  def table do
    rows =
      for option <- @options do
        key = if option.file?, do: "`#{option.key}`", else: ""
        "| #{key} | #{flags(option)} | #{option.default_doc} | #{option.values} |"
      end

    Enum.join(["| option | flag | default | values |", "|---|---|---|---|" | rows], "\n") <>
      "\n"
  end

  defp flags(option) do
    Enum.map_join(
      [option.flag_name | List.wrap(option.alias && "-#{option.alias}")],
      ", ",
      &"`#{&1}`"
    )
  end

  @doc """
  The error message for an invalid `value` of the option `key`: names the option
  everywhere it can be set, then says why (`reason`).
  """
  @spec invalid(atom(), term(), String.t()) :: String.t()
  def invalid(key, value, reason) do
    option = Map.fetch!(@by_key, key)

    where = Enum.filter([option.file? && "option #{key}:", option.flag_name, option.env], & &1)

    "invalid #{key} #{inspect(value)} (#{Enum.join(where, " / ")}): #{reason}"
  end

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
      case check(key, value) do
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
    for %{env: var, key: key} <- @options,
        var,
        value = Env.value(env, var),
        do: {key, {:flag, value}}
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

  # String flags (and environment values) are tagged so that `{:in, atoms}` matches
  # them by name.
  defp flag_to_option({flag, value}) do
    case Map.fetch!(@by_flag, flag) do
      %{switch: :string, key: key} -> {key, {:flag, value}}
      %{key: key} -> {key, value}
    end
  end

  defp source_date_epoch(env) do
    case Env.value(env, "SOURCE_DATE_EPOCH") do
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

  defp check(key, value) do
    case {Map.fetch!(@by_key, key).type, value} do
      {{:in, valid}, value} ->
        one_of(key, value, valid)

      {:boolean, value} when is_boolean(value) ->
        {:ok, value}

      {:boolean, value} ->
        {:error, invalid(key, value, "it must be true or false")}

      {_type, value} ->
        with {:error, reason} <- validate(key, unwrap(value)),
             do: {:error, invalid(key, unwrap(value), reason)}
    end
  end

  defp validate(:compression, level) when is_integer(level) and level in @compression,
    do: {:ok, level}

  defp validate(:compression, _level) do
    {:error,
     "it must be an integer from #{@compression.first} to #{@compression.last} " <>
       "(zstd level; 3 is fast, #{@default_compression} is the default, 19 is smallest)"}
  end

  defp validate(:binary_name, name) do
    cond do
      not is_binary(name) or name == "" ->
        {:error, "it must be a non-empty string such as \"hello\""}

      String.contains?(name, ["/", <<0>>]) ->
        {:error,
         "it is a file name and cannot contain \"/\"; use output: / --output to choose the directory"}

      true ->
        {:ok, name}
    end
  end

  defp validate(:output, path) when is_binary(path) and path != "", do: {:ok, path}
  defp validate(:output, _path), do: {:error, "it must be a file path"}

  defp validate(:otp_version, value) do
    cond do
      value in [:auto, "auto"] ->
        {:ok, :auto}

      is_binary(value) and value =~ ~r/^\d+(\.\d+)*$/ ->
        {:ok, value}

      true ->
        {:error, "it must be :auto or an OTP version string such as \"25.2.3\" or \"26.2.5\""}
    end
  end

  defp validate(:erts_source, url) when url in [:host, "host"], do: {:ok, :host}

  defp validate(:erts_source, url) do
    if is_binary(url) and url =~ ~r{^(https?|file)://.+},
      do: {:ok, String.trim_trailing(url, "/")},
      else:
        {:error,
         "it must be :host (this machine's runtime) or an http://, https:// or file:// base URL"}
  end

  defp validate(:escript_module, value) do
    cond do
      is_atom(value) and value not in [nil, true, false] -> {:ok, value}
      is_binary(value) and value != "" -> {:ok, Module.concat([value])}
      true -> {:error, "it must be a module such as MyApp.CLI"}
    end
  end

  defp validate(:release, value) do
    if (is_atom(value) and value not in [nil, true, false]) or (is_binary(value) and value != ""),
      do: {:ok, value},
      else: {:error, "give a release name"}
  end

  # Flags arrive as strings and are matched against the valid atoms by name, so a
  # mistyped flag never creates an atom; mix.exs values must be the atoms themselves.
  defp one_of(key, {:flag, value}, valid) do
    case Enum.find(valid, &(Atom.to_string(&1) == value)) do
      nil -> {:error, invalid_choice(key, value, valid)}
      atom -> {:ok, atom}
    end
  end

  defp one_of(key, value, valid) do
    if value in valid,
      do: {:ok, value},
      else: {:error, invalid_choice(key, value, valid)}
  end

  defp invalid_choice(key, value, valid) do
    invalid(key, value, "valid values are " <> Enum.map_join(valid, ", ", &inspect/1))
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
end
