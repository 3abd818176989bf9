defmodule Batamanta.Native do
  @moduledoc """
  Client for `batamanta-native`, the Swift build helper, spoken to over an Erlang port.

  The wire protocol, the command table and the error codes are described once, in
  `docs/PROTOCOL.md`; this module is its Elixir side. Each request carries an
  increasing id, zero or more `:progress` messages may arrive before the reply, and
  every reply is `{:ok, result}` or `{:error, code, message}`.

  The helper executable is found by `Batamanta.Products.native_helper!/0`.
  """

  alias Batamanta.Products

  defstruct [:port, :path, timeout: :infinity]

  @type t :: %__MODULE__{port: port(), path: Path.t(), timeout: timeout()}
  @type error :: {:error, atom(), String.t()}

  @doc """
  Starts the helper found by `Batamanta.Products.native_helper!/0`. See `open/2` for
  the options.
  """
  @spec start(keyword()) :: t()
  def start(opts \\ []), do: open(Products.native_helper!(), opts)

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
end
