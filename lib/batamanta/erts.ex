defmodule Batamanta.ERTS do
  @moduledoc """
  Provisions the Erlang runtime that goes into the binary: pick the source and the
  version (`Batamanta.ERTS.Source`), download it with a verified checksum, install it
  into the shared cache (`Batamanta.ERTS.Cache`, `Batamanta.ERTS.Tree`), and check
  version parity with the OTP running this build.

  ## How the provisioned OTP ends up in the release

  The release's `erts-*` directory and every OTP application in its `lib/` (kernel,
  stdlib, compiler, crypto, ...) must come from the provisioned OTP, never from the build
  machine. When the target is the host (same os, arch and libc) the release is built
  *on* the provisioned OTP: `Batamanta.MixRun.build_env/3` puts `<root>/bin` first on
  the `PATH` of the `mix release` subprocess, so the child `mix` runs on that OTP and
  writes every version into the boot files itself.

  A runtime for another target cannot run here. The release is then built on this
  VM's own OTP (`builder/2`) and `Batamanta.RuntimeSwap` swaps the target's native parts
  into it. That is only sound when both are the very same OTP version, so for another
  target the source must have exactly the host's version: the boot script, the `.rel`
  and `start_erl.data` name application versions, which a patch release changes.

  ## Version parity

  The project's BEAM files are compiled by the OTP running `mix batamanta`, and a BEAM
  file is only guaranteed to load on the OTP major that compiled it, so a runtime of
  another major is refused.

  ## Offline

  A cache entry of the wanted version (the host's exact one for `:auto`) is used without
  asking the source, and the source's version list is kept for an hour
  (`Batamanta.ERTS.Index`). With the defaults (`otp_version: :auto`, `erts_target: :auto`,
  no `force_*`) a source that cannot be reached is not fatal: the host's own runtime is
  used, with a one-line warning. A target or version named explicitly is an error
  instead, never a silent substitute. `erts_source: :host` embeds the host's runtime
  without asking any source and without a warning.
  """

  alias Batamanta.{Config, Native, Target}
  alias Batamanta.ERTS.{Cache, Index, Source, Tree}

  defstruct [:root, :erts_version, :otp_version, :source, :warning]

  @type t :: %__MODULE__{
          root: Path.t(),
          erts_version: String.t(),
          otp_version: String.t(),
          source: :host | :cache | :download,
          warning: String.t() | nil
        }

  @doc """
  Returns the runtime to embed for `target`.

  Options: `:env` (default `System.get_env/0`) and `:progress`, a function from a label
  (what is fetched) to an `on_progress` callback for `Batamanta.Native.request/4`
  (default: silent).
  """
  @spec provision(Config.t(), Target.t(), Native.t(), keyword()) ::
          {:ok, t()} | {:error, String.t()}
  def provision(%Config{} = config, %Target{} = target, native, opts \\ []) do
    env = Keyword.get_lazy(opts, :env, &System.get_env/0)
    progress = Keyword.get(opts, :progress, fn _label -> fn _progress -> :ok end end)
    host = host()

    with :ok <- check_same_version(config.otp_version, target, host),
         :ok <- check_parity(config.otp_version, host, "otp_version: (--otp-version)") do
      case config.erts_source == :host || Source.resolve(config.erts_source, target.triple, env) do
        true ->
          from_host(config, target, host)

        :none ->
          unavailable(
            config,
            target,
            host,
            "there is no built-in ERTS source for #{target.triple}"
          )

        {:ok, source} ->
          from_source(source, config, target, host, native, Cache.root(env), progress)
      end
    end
  end

  @doc """
  The runtime that builds the release or escript: the provisioned one when it runs on
  this machine, else this VM's own, which `provision/4` made sure is the same OTP
  version.
  """
  @spec builder(t(), Target.t()) :: t()
  def builder(%__MODULE__{} = erts, %Target{host?: true}), do: erts
  def builder(%__MODULE__{}, %Target{host?: false}), do: host()

  defp from_source(source, config, target, host, native, root, progress) do
    wanted = if config.otp_version == :auto, do: host.otp_version, else: config.otp_version
    entry = Cache.entry(root, target.triple, wanted)

    with :miss <- Cache.lookup(entry),
         {:ok, index} <- Index.fetch(source, native, root, progress.("the OTP list")) do
      select_and_install(source, index, config, target, host, native, root, progress)
    else
      {:ok, info} -> {:ok, cached(entry, info, :cache)}
      {:unavailable, why} -> unavailable(config, target, host, why)
    end
  end

  defp select_and_install(source, index, config, target, host, native, root, progress) do
    with {:ok, version, sha256} <- select(source, index, config, target, host),
         :ok <- check_parity(version, host, "the OTP version #{version} from #{source.index_url}") do
      url = Source.tarball_url(source, version)
      entry = Cache.entry(root, target.triple, version)
      on_progress = progress.("OTP-#{version}.tar.gz")
      fill = &download(&1, native, url, sha256, version, entry, on_progress)
      check = &same_version(&1, version, url)

      with {:ok, info, how, warnings} <- Cache.install(native, entry, fill, check, on_progress),
           :ok <- check_parity(info.otp_version, host, "the OTP in #{entry}") do
        erts = cached(entry, info, if(how == :installed, do: :download, else: :cache))
        {:ok, %{erts | warning: if(warnings != [], do: Enum.join(warnings, "\n"))}}
      end
    end
  end

  defp select(source, index, config, %Target{host?: true}, host),
    do: Source.select(source, index, config.otp_version, host.otp_version)

  defp select(source, index, _config, target, host) do
    case Source.select(source, index, host.otp_version, host.otp_version) do
      {:ok, _version, _sha256} = selected ->
        selected

      {:error, _} ->
        {:error,
         "#{source.index_url} has no verifiable OTP #{host.otp_version} for #{target.triple}. " <>
           "#{Source.available(index)}. A build for another platform swaps that runtime into " <>
           "a release made by this machine's OTP #{host.otp_version}, so the versions must be " <>
           "equal: add OTP-#{host.otp_version}.tar.gz to the mirror, or run mix batamanta on a " <>
           "host whose OTP is one of the listed versions"}
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
         {:ok, tree, dropped} <- naming(url, Tree.unpack(native, tarball, unpacked, progress)),
         _ = File.rm(tarball),
         :ok <- Tree.install(tree, entry) do
      {:ok, tree, dropped_warnings(url, dropped)}
    end
  end

  defp naming(url, {:error, message}), do: {:error, "#{url} cannot be installed: #{message}"}
  defp naming(_url, result), do: result

  defp dropped_warnings(_url, []), do: []

  defp dropped_warnings(url, dropped) do
    links = Enum.map_join(dropped, ", ", fn {path, target} -> "#{path} -> #{target}" end)

    [
      "#{url} has #{length(dropped)} symlink(s) pointing outside the OTP tree, left out " <>
        "of the runtime (a self-contained binary cannot carry them): #{links}"
    ]
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

  defp cached(root, info, source) do
    %__MODULE__{
      root: root,
      erts_version: info.erts_version,
      otp_version: info.otp_version,
      source: source
    }
  end

  defp check_same_version(version, %Target{host?: false} = target, host) do
    if version in [:auto, host.otp_version] do
      :ok
    else
      {:error,
       "otp_version: #{inspect(version)} (--otp-version) cannot be built for #{target.triple} " <>
         "here: a build for another platform swaps the target's runtime into a release made " <>
         "by this machine's OTP #{host.otp_version} (#{host.root}), so the target's OTP must " <>
         "be exactly #{host.otp_version}. Use otp_version: :auto, or run mix batamanta on a " <>
         "host with OTP #{version}"}
    end
  end

  defp check_same_version(_version, _target, _host), do: :ok

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

  defp from_host(config, %Target{host?: true}, %__MODULE__{otp_version: version} = host) do
    case explicit(config) do
      nil -> {:ok, host}
      {:otp_version, ^version} -> {:ok, host}
      {option, value} -> {:error, host_mismatch(option, value, host)}
    end
  end

  defp from_host(_config, target, host) do
    {:error,
     "erts_source: :host (--erts-source host) embeds this machine's OTP #{host.otp_version}, " <>
       "which cannot run on #{target.triple}: set erts_source: to a mirror for that target, " <>
       "or remove erts_target/force_* to build for this machine"}
  end

  defp host_mismatch(option, value, host) do
    "erts_source: :host (--erts-source host) embeds this machine's OTP #{host.otp_version}, " <>
      "but #{option}: #{inspect(value)} asks for another runtime: remove #{option}, or set " <>
      "erts_source: to a mirror that has it"
  end

  # Only the defaults may fall back to the host's runtime: a target or version the user
  # asked for by name is a promise about what is embedded.
  defp explicit(%Config{} = config) do
    Enum.find(
      [
        erts_target: config.erts_target,
        otp_version: config.otp_version,
        force_os: config.force_os,
        force_arch: config.force_arch,
        force_libc: config.force_libc
      ],
      fn {_option, value} -> value not in [nil, :auto] end
    )
  end

  defp unavailable(config, %Target{host?: true} = target, host, why) do
    case explicit(config) do
      nil -> host_fallback(host, why)
      {:otp_version, _} -> unavailable_version(config, target, host, why)
      {option, value} -> {:error, unavailable_target(option, value, target, why)}
    end
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
      "#{short(why)}; using this machine's own OTP #{host.otp_version} " <>
        "(erts_source: :host skips the network)"

    {:ok, %{host | warning: warning}}
  end

  # Every offline build prints this warning, so it names the unreachable host and the
  # last clause of curl's reason, not the whole URL and retry story of the helper.
  defp short(why) do
    case Regex.run(~r/download of (\S+) failed: (.*?)(?: \(gave up after \d+ attempts\))?$/, why) do
      [_, url, reason] ->
        reason =
          if String.length(reason) > 60, do: List.last(String.split(reason, ": ")), else: reason

        "#{URI.parse(url).host} is unreachable (#{reason})"

      nil ->
        why
    end
  end

  defp unavailable_target(option, value, target, why) do
    "#{why}, so the #{target.triple} runtime that #{option}: #{inspect(value)} " <>
      "(--#{String.replace(to_string(option), "_", "-")}) asks for cannot be provisioned. " <>
      "Set erts_source: (--erts-source, BATAMANTA_ERTS_SOURCE) to a reachable mirror, or " <>
      "remove #{option} and use erts_source: :host to embed this machine's runtime"
  end

  defp unavailable_version(config, target, host, why) do
    {:error,
     "#{why}, so OTP #{config.otp_version} (otp_version: / --otp-version) cannot be " <>
       "provisioned for #{target.triple}, and this machine runs OTP #{host.otp_version}. " <>
       "Set erts_source: (--erts-source, BATAMANTA_ERTS_SOURCE) to a mirror that has it, " <>
       "or use otp_version: :auto"}
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
