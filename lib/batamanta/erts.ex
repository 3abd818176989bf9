defmodule Batamanta.ERTS do
  @moduledoc """
  Provisions the Erlang runtime that goes into the binary: pick the source and the
  version (`Batamanta.ERTS.Source`), download it with a verified checksum, install it
  into the shared cache (`Batamanta.ERTS.Cache`, `Batamanta.ERTS.Tree`), and check
  version parity with the OTP running this build.

  ## How the provisioned OTP ends up in the release

  The release's `erts-*` directory and every OTP application in its `lib/` (kernel,
  stdlib, compiler, crypto, ...) must come from the provisioned OTP, never from the build
  machine. Copying them over a staged release would also mean rewriting the `.rel`, the
  boot script and `start_erl.data` whenever application versions differ. Instead the
  release is built *on* the provisioned OTP: `Batamanta.Release.build_env/3` puts
  `<root>/bin` first on the `PATH` of the `mix release` subprocess, so the child `mix`
  runs on that OTP, and Mix copies erts and the applications from its
  `:code.root_dir/0` and writes every version into the boot files itself.

  That needs a provisioned OTP that runs on this machine, so it is done when the target
  is the host (same os, arch and libc). For another target the provisioned OTP cannot
  run here; building for it is refused until the staged tree can be swapped instead.

  ## Version parity

  The project's BEAM files are compiled by the OTP running `mix batamanta`, and a BEAM
  file is only guaranteed to load on the OTP major that compiled it, so a runtime of
  another major is refused.

  ## Offline

  With `otp_version: :auto` (or the host's exact version) and the target equal to the
  host, a source that cannot be reached is not fatal: the host's own runtime is used,
  with a warning that says so.
  """

  alias Batamanta.{Config, Native, Target}
  alias Batamanta.ERTS.{Cache, Progress, Source, Tree}

  defstruct [:root, :erts_version, :otp_version, :source, :url, :warning]

  @type t :: %__MODULE__{
          root: Path.t(),
          erts_version: String.t(),
          otp_version: String.t(),
          source: :host | :cache | :download,
          url: String.t() | nil,
          warning: String.t() | nil
        }

  @doc """
  Returns the runtime to embed for `target`.

  Options: `:env` (default `System.get_env/0`), `:tmp` (a directory for the version
  list, default the system's temp dir) and `:quiet` (no progress output).
  """
  @spec provision(Config.t(), Target.t(), Native.t(), keyword()) ::
          {:ok, t()} | {:error, String.t()}
  def provision(%Config{} = config, %Target{} = target, native, opts \\ []) do
    env = Keyword.get_lazy(opts, :env, &System.get_env/0)
    host = host()

    with :ok <- check_parity(config.otp_version, host, "otp_version: (--otp-version)") do
      case Source.resolve(config.erts_source, target.triple, env) do
        :none ->
          unavailable(
            config,
            target,
            host,
            "there is no built-in ERTS source for #{target.triple}"
          )

        {:ok, _source} when not target.host? ->
          foreign(target)

        {:ok, source} ->
          from_source(source, config, target, host, native, Keyword.put(opts, :env, env))
      end
    end
  end

  defp from_source(source, config, target, host, native, opts) do
    root = Cache.root(opts[:env])
    wanted = if config.otp_version == :auto, do: host.otp_version, else: config.otp_version
    entry = Cache.entry(root, target.triple, wanted)

    with :miss <- Cache.lookup(entry),
         {:ok, index} <- fetch_index(source, native, opts) do
      select_and_install(source, index, config, target, host, native, root, opts)
    else
      {:ok, info} -> {:ok, cached(entry, info, :cache, nil)}
      {:unavailable, why} -> unavailable(config, target, host, why)
    end
  end

  defp fetch_index(source, native, opts) do
    tmp = Keyword.get_lazy(opts, :tmp, &System.tmp_dir!/0)
    output = Path.join(tmp, "erts-index-#{System.unique_integer([:positive])}")
    # The list is small: one retry tells a blip from being offline without a long wait.
    args = %{url: source.index_url, output: output, sha256: nil, retries: 1}

    try do
      case Native.request(native, :fetch, args) do
        {:ok, _} ->
          {:ok, Source.parse_index(source, File.read!(output))}

        {:error, _code, message} ->
          {:unavailable, "the OTP list could not be fetched: #{message}"}
      end
    after
      File.rm(output)
    end
  end

  defp select_and_install(source, index, config, target, host, native, root, opts) do
    with {:ok, version, sha256} <-
           Source.select(source, index, config.otp_version, host.otp_version),
         :ok <- check_parity(version, host, "the OTP version #{version} from #{source.index_url}") do
      url = Source.tarball_url(source, version)
      entry = Cache.entry(root, target.triple, version)
      progress = Progress.reporter("OTP-#{version}.tar.gz", Keyword.get(opts, :quiet, false))
      fill = &download(&1, native, url, sha256, version, entry, progress)

      with {:ok, info, how} <- Cache.install(native, entry, fill, progress),
           :ok <- check_parity(info.otp_version, host, "the OTP in #{entry}") do
        {:ok, cached(entry, info, if(how == :installed, do: :download, else: :cache), url)}
      end
    end
  end

  defp download(tmp, native, url, sha256, version, entry, progress) do
    tarball = Path.join(tmp, "OTP-#{version}.tar.gz")
    unpacked = Path.join(tmp, "tree")
    File.mkdir_p!(unpacked)

    with {:ok, _} <-
           native_result(
             Native.request(
               native,
               :fetch,
               %{url: url, output: tarball, sha256: sha256},
               progress
             )
           ),
         {:ok, tree} <- Tree.unpack(tarball, unpacked),
         _ = File.rm(tarball),
         :ok <- Tree.install(tree, entry),
         {:ok, info} <- Tree.verify(tree),
         :ok <- same_version(info, version, url) do
      {:ok, tree}
    end
  end

  defp native_result({:ok, result}), do: {:ok, result}

  defp native_result({:error, _code, message}),
    do: {:error, message <> ". Check erts_source: (--erts-source, BATAMANTA_ERTS_SOURCE)"}

  defp same_version(%{otp_version: version}, version, _url), do: :ok

  defp same_version(%{otp_version: actual}, expected, url) do
    {:error,
     "#{url} was listed as OTP #{expected} but contains OTP #{actual}; the mirror is " <>
       "inconsistent, so nothing was installed. Fix the mirror's SHA256SUMS or choose " <>
       "another otp_version (--otp-version)"}
  end

  defp cached(root, info, source, url) do
    %__MODULE__{
      root: root,
      erts_version: info.erts_version,
      otp_version: info.otp_version,
      source: source,
      url: url
    }
  end

  defp check_parity(:auto, _host, _what), do: :ok

  defp check_parity(version, host, what) do
    major = Source.major(version)
    host_major = Source.major(host.otp_version)

    if major == host_major do
      :ok
    else
      {:error,
       "#{what} is OTP #{version}, but this build runs on OTP #{host.otp_version} " <>
         "(#{host.root}): the project's BEAM files are compiled by the host's OTP and are " <>
         "only guaranteed to load on OTP #{host_major}. Either choose an OTP #{host_major} " <>
         "version (otp_version: :auto picks one), or run mix batamanta with an OTP #{major} " <>
         "first on PATH"}
    end
  end

  defp unavailable(config, %Target{host?: true} = target, host, why) do
    if config.otp_version in [:auto, host.otp_version],
      do: host_fallback(host, why),
      else: unavailable_version(config, target, host, why)
  end

  defp unavailable(_config, target, _host, why) do
    {:error,
     "#{why}, and target #{target.triple} is not this machine, so its runtime cannot be " <>
       "taken from here. Set erts_source: (--erts-source, BATAMANTA_ERTS_SOURCE) to a " <>
       "mirror with <base>/#{target.triple}/SHA256SUMS, or remove erts_target/force_* to " <>
       "build for this machine"}
  end

  defp host_fallback(host, why) do
    warning =
      "#{why}; using this machine's own OTP #{host.otp_version} (ERTS " <>
        "#{host.erts_version}) from #{host.root}. Set erts_source: (--erts-source, " <>
        "BATAMANTA_ERTS_SOURCE) to a reachable mirror to embed a provisioned runtime"

    {:ok, %{host | warning: warning}}
  end

  defp unavailable_version(config, target, host, why) do
    {:error,
     "#{why}, so OTP #{config.otp_version} (otp_version: / --otp-version) cannot be " <>
       "provisioned for #{target.triple}, and this machine runs OTP #{host.otp_version}. " <>
       "Set erts_source: (--erts-source, BATAMANTA_ERTS_SOURCE) to a mirror that has it, " <>
       "or use otp_version: :auto"}
  end

  defp foreign(target) do
    {:error,
     "target #{target.triple} is not this machine; building for another platform is not " <>
       "available yet (its runtime cannot run here to build the release). Remove " <>
       "erts_target/force_os/force_arch/force_libc to build for this machine"}
  end

  @doc "The runtime running this VM."
  @spec host() :: t()
  def host do
    root = to_string(:code.root_dir())
    major = to_string(:erlang.system_info(:otp_release))

    %__MODULE__{
      root: root,
      erts_version: to_string(:erlang.system_info(:version)),
      otp_version: otp_version(root, major),
      source: :host
    }
  end

  # OTP_VERSION holds the full version ("25.2.3"); the VM only knows the major.
  defp otp_version(root, major) do
    case File.read(Path.join([root, "releases", major, "OTP_VERSION"])) do
      {:ok, contents} -> String.trim(contents)
      {:error, _} -> major
    end
  end
end
