defmodule Mix.Tasks.Batamanta.Clean do
  @shortdoc "Removes batamanta's caches"

  @moduledoc """
  Removes batamanta's per-user caches and prints what it freed.

      $ mix batamanta.clean                 # everything (same as --all)
      $ mix batamanta.clean --erts          # provisioned OTP runtimes
      $ mix batamanta.clean --extractions   # what binaries extracted on this machine

    * `--erts` - `$XDG_CACHE_HOME/batamanta/erts` (default `~/.cache/...`): OTP trees
      downloaded by `mix batamanta`. The next build downloads them again.
    * `--extractions` - the binaries' extraction cache (`$BATAMANTA_CACHE_DIR`, else
      `$XDG_CACHE_HOME/batamanta`, else `~/.cache/batamanta`). Only directories carrying
      the dispenser's marker are removed, and only when no running binary uses them.
    * `--all` - both (the default).

  Nothing batamanta did not create is deleted.
  """

  use Mix.Task

  alias Batamanta.ERTS.Cache
  alias Batamanta.{Env, Native, Output, Staged}

  @switches [erts: :boolean, extractions: :boolean, all: :boolean]
  @marker ".batamanta-extraction"
  @leftover_prefixes [".batamanta-tmp-", ".batamanta-trash-"]

  @impl true
  def run(argv) do
    {opts, rest} = OptionParser.parse!(argv, strict: @switches)

    if rest != [] do
      Mix.raise("mix batamanta.clean takes no arguments, got: #{Enum.join(rest, " ")}")
    end

    all = opts[:all] == true or not (opts[:erts] == true or opts[:extractions] == true)
    env = System.get_env()
    if all or opts[:erts], do: clean_erts(env)
    if all or opts[:extractions], do: clean_extractions(env)
  end

  defp clean_erts(env) do
    dir = Cache.root(env)
    size = Staged.disk_size(dir)
    File.rm_rf!(dir)
    Mix.shell().info("erts: removed #{dir} (#{Output.bytes(size)})")
  end

  defp clean_extractions(env) do
    dir = extraction_dir(env)
    native = Native.start()

    try do
      names =
        case File.ls(dir) do
          {:ok, names} -> names
          {:error, _} -> []
        end

      {removed, busy} =
        names
        |> Enum.filter(&ours?(dir, &1))
        |> Enum.map(&remove_unused(native, Path.join(dir, &1)))
        |> Enum.split_with(&is_integer/1)

      Mix.shell().info(
        "extractions: removed #{length(removed)} from #{dir} (#{Output.bytes(Enum.sum(removed))})" <>
          if(busy == [], do: "", else: "; kept #{length(busy)} in use by a running binary")
      )
    after
      Native.close(native)
    end
  end

  @doc false
  def extraction_dir(env) do
    case Env.value(env, "BATAMANTA_CACHE_DIR") do
      dir when is_binary(dir) -> Path.expand(dir)
      nil -> Path.join(Cache.cache_home(env), "batamanta")
    end
  end

  # The dispenser names extractions `<app>-<version>-<16 hex>` and writes its marker,
  # starting with `app=`, into each; half-made ones carry its temporary prefixes.
  defp ours?(dir, name) do
    path = Path.join(dir, name)

    cond do
      not File.dir?(path) or File.lstat!(path).type != :directory -> false
      String.starts_with?(name, @leftover_prefixes) -> true
      name =~ ~r/^.+-[0-9a-f]{16}$/ -> marker?(Path.join(path, @marker))
      true -> false
    end
  end

  defp marker?(path) do
    match?({:ok, "app=" <> _}, File.read(path))
  end

  # A running binary holds LOCK_SH on its extraction, so a free LOCK_EX proves that no
  # process uses it; the lock is kept while deleting so none starts meanwhile.
  defp remove_unused(native, path) do
    case Native.request(native, :lock, %{path: path, wait: false, create: false}) do
      {:ok, %{lock: lock}} ->
        size = Staged.disk_size(path)
        File.rm_rf!(path)
        Native.request(native, :unlock, %{lock: lock})
        size

      {:error, _code, _message} ->
        :busy
    end
  end
end
