defmodule Batamanta.Native do
  @moduledoc """
  Client for `batamanta-native`, the Swift build helper, spoken to over an Erlang port.

  The wire protocol, the command table and the error codes are described once, in
  `docs/PROTOCOL.md`; this module is its Elixir side. Each request carries an
  increasing id, zero or more `:progress` messages may arrive before the reply, and
  every reply is `{:ok, result}` or `{:error, code, message}`.

  The helper is looked up, in order, at `$BATAMANTA_NATIVE`, in batamanta's
  `priv/bin/` (through `:code.priv_dir/1`) and in the source tree's `priv/bin/`, where
  `Mix.Tasks.Compile.BatamantaNative` puts it.
  """

  alias Mix.Tasks.Compile.BatamantaNative

  defstruct [:port, :path, timeout: :infinity]

  @type t :: %__MODULE__{port: port(), path: Path.t(), timeout: timeout()}
  @type error :: {:error, atom(), String.t()}

  @doc """
  Starts the helper found by `executable_path!/0`. See `open/2` for the options.
  """
  @spec start(keyword()) :: t()
  def start(opts \\ []), do: open(executable_path!(), opts)

  @doc """
  Starts the helper at `path`.

  Options:

    * `:timeout` - milliseconds to wait for each reply (or for the next progress
      message) before giving up with `{:error, :timeout, message}`; default `:infinity`.
  """
  @spec open(Path.t(), keyword()) :: t()
  def open(path, opts \\ []) do
    port = Port.open({:spawn_executable, path}, [{:packet, 4}, :binary, :exit_status])

    %__MODULE__{port: port, path: path, timeout: Keyword.get(opts, :timeout, :infinity)}
  end

  @doc """
  Sends `command` with `args` and waits for its reply.

  `on_progress` is called with each progress map (`%{stage:, done:, total:}`).
  """
  @spec request(t(), atom(), map(), (map() -> any())) :: {:ok, term()} | error()
  def request(%__MODULE__{port: port} = native, command, args, on_progress \\ fn _ -> :ok end)
      when is_atom(command) and is_map(args) do
    id = System.unique_integer([:positive, :monotonic])

    try do
      Port.command(port, :erlang.term_to_binary({id, command, args}))
    rescue
      ArgumentError -> {:error, :helper_crashed, "#{native.path} is no longer running"}
    else
      true -> await(native, id, command, on_progress)
    end
  end

  defp await(%__MODULE__{port: port} = native, id, command, on_progress) do
    receive do
      {^port, {:data, data}} ->
        case :erlang.binary_to_term(data) do
          {^id, {:progress, progress}} ->
            on_progress.(progress)
            await(native, id, command, on_progress)

          {^id, {:ok, result}} ->
            {:ok, result}

          {^id, {:error, code, message}} ->
            {:error, code, message}

          other ->
            {:error, :bad_reply,
             "#{native.path} answered #{inspect(command)} with #{inspect(other, limit: 20)}"}
        end

      {^port, {:exit_status, status}} ->
        {:error, :helper_crashed,
         "#{native.path} stopped during #{inspect(command)} with exit status #{status}"}
    after
      native.timeout ->
        {:error, :timeout,
         "#{native.path} did not answer #{inspect(command)} within #{native.timeout} ms"}
    end
  end

  @doc """
  Runs `fun` holding the helper's exclusive `:lock` on `args.path` (see `:lock` in
  docs/PROTOCOL.md), and releases it afterwards; `fun`'s result, or the helper's error
  when the lock cannot be taken.
  """
  @spec with_lock(t(), map(), (map() -> :ok), (() -> result)) :: result | error()
        when result: term()
  def with_lock(%__MODULE__{} = native, args, on_progress, fun) do
    with {:ok, %{lock: lock}} <- request(native, :lock, args, on_progress) do
      try do
        fun.()
      after
        request(native, :unlock, %{lock: lock})
      end
    end
  end

  @doc "Closes the port; the helper sees EOF on stdin and exits."
  @spec close(t()) :: :ok
  def close(%__MODULE__{port: port}) do
    if Port.info(port), do: Port.close(port)

    receive do
      {^port, {:exit_status, _}} -> :ok
    after
      0 -> :ok
    end
  end

  @doc """
  The path of the helper executable, or a `Mix.Error` that says how to get one.
  """
  @spec executable_path!() :: Path.t()
  def executable_path! do
    case executable_path() do
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

  @doc false
  def executable_path do
    case System.get_env("BATAMANTA_NATIVE") do
      override when override not in [nil, ""] ->
        if File.regular?(override), do: {:ok, override}, else: {:error, [override]}

      _ ->
        product_path("batamanta-native")
    end
  end

  @doc """
  Says that the compiled product `name` is missing from the places `tried`.
  """
  @spec missing(String.t(), [Path.t()]) :: String.t()
  def missing(name, tried) do
    "#{name} is missing (looked at #{Enum.join(tried, ", ")}); run `mix compile` in " <>
      "batamanta (needs a Swift 6 toolchain)"
  end

  @doc """
  The path of a file in `priv/bin/`, or the places looked at.
  """
  @spec product_path(String.t()) :: {:ok, Path.t()} | {:error, [Path.t()]}
  def product_path(name) do
    candidates = Enum.uniq(priv_candidates(name))

    case Enum.find(candidates, &File.regular?/1) do
      nil -> {:error, candidates}
      path -> {:ok, path}
    end
  end

  # Mix links a dependency's priv/ into _build only if it existed when the dependency
  # was first compiled, and the compiler creates it, so the source tree is checked too.
  defp priv_candidates(name) do
    from_code =
      case :code.priv_dir(:batamanta) do
        {:error, _} -> []
        dir -> [Path.join([to_string(dir), "bin", name])]
      end

    from_code ++ [BatamantaNative.output_path(name)]
  end
end
