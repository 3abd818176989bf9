defmodule Batamanta.Test.OTPFixture do
  @moduledoc """
  OTP tarballs made from this machine's OTP, shaped like `make release` output (what
  Hex's builds ship): `erts-*/bin/erl.src` with the `%FINAL_ROOTDIR%` placeholder, no
  `bin/`, `releases/RELEASES.src`, and an `Install` script with OTP's `-cross -minimal`
  semantics. A marker file, `erts-*/bin/batamanta-fixture`, travels into any release
  built on the tree, proving where its runtime came from.
  """

  @marker "batamanta-fixture"
  # Not needed to build or run a release, and the largest apps.
  @skip_apps ~w(erl_interface)

  def marker, do: @marker

  def host_version do
    root = to_string(:code.root_dir())
    major = to_string(:erlang.system_info(:otp_release))
    root |> Path.join("releases/#{major}/OTP_VERSION") |> File.read!() |> String.trim()
  end

  @doc """
  Writes `OTP-<version>.tar.gz` into `dir` and returns `{path, sha256}`.

  Options: `:version` (written to OTP_VERSION; its major names the releases dir;
  default the host's), `:top_folder` (default true).
  """
  def tarball(dir, opts \\ []) do
    version = Keyword.get(opts, :version, host_version())
    tree = Path.join(dir, "tree-#{version}-#{System.unique_integer([:positive])}")
    build_tree(tree, version)
    output = Path.join(dir, "OTP-#{version}.tar.gz")

    entries =
      if Keyword.get(opts, :top_folder, true),
        do: [{~c"OTP-#{version}", String.to_charlist(tree)}],
        else: Enum.map(File.ls!(tree), &{String.to_charlist(&1), ~c"#{tree}/#{&1}"})

    :ok = :erl_tar.create(String.to_charlist(output), entries, [:compressed])
    File.rm_rf!(tree)
    {output, sha256(output)}
  end

  @doc """
  Writes `OTP-<host version>.tar.gz` into `dir` the way a mirror is made from an installed
  OTP, `tar -C <parent> -czf OTP-<version>.tar.gz erlang`, from a copy of this machine's
  root (its symlinks as they are, plus the marker file), and returns `{path, sha256}`.
  """
  def installed_tarball(dir) do
    root = to_string(:code.root_dir())
    copy = Path.join(dir, "installed-#{System.unique_integer([:positive])}")
    File.mkdir_p!(copy)
    {_, 0} = System.cmd("cp", ["-a", root, Path.join(copy, "erlang")])
    erts = "erts-#{:erlang.system_info(:version)}"
    File.write!(Path.join([copy, "erlang", erts, "bin", @marker]), "made from #{root}\n")
    output = Path.join(dir, "OTP-#{host_version()}.tar.gz")
    {_, 0} = System.cmd("tar", ["-C", copy, "-czf", output, "erlang"])
    File.rm_rf!(copy)
    {output, sha256(output)}
  end

  @doc "The symlinks under `root/lib` that point outside `root`, relative to `root`."
  def escaping_links(root \\ to_string(:code.root_dir())) do
    for link <- Path.wildcard(Path.join(root, "lib/*/**")),
        {:ok, target} <- [File.read_link(link)],
        not String.starts_with?(Path.expand(target, Path.dirname(link)), root <> "/"),
        do: Path.relative_to(link, root)
  end

  def sha256(path), do: :crypto.hash(:sha256, File.read!(path)) |> Base.encode16(case: :lower)

  defp build_tree(tree, version) do
    root = to_string(:code.root_dir())
    erts_version = to_string(:erlang.system_info(:version))
    host_major = to_string(:erlang.system_info(:otp_release))
    major = version |> String.split(".") |> hd()
    erts = "erts-#{erts_version}"

    File.mkdir_p!(Path.join(tree, "#{erts}/bin"))

    for file <- File.ls!(Path.join(root, "#{erts}/bin")), file not in ~w(erl start) do
      File.cp!(Path.join(root, "#{erts}/bin/#{file}"), Path.join(tree, "#{erts}/bin/#{file}"))
    end

    for script <- ~w(erl start) do
      text = File.read!(Path.join(root, "#{erts}/bin/#{script}"))
      File.write!(Path.join(tree, "#{erts}/bin/#{script}.src"), placeholder(text, root))
    end

    File.write!(Path.join(tree, "#{erts}/bin/#{@marker}"), "made from #{root}\n")

    for app_dir <- Path.wildcard(Path.join(root, "lib/*/ebin/*.app")),
        app = app_dir |> Path.dirname() |> Path.dirname() |> Path.basename(),
        not String.starts_with?(app, @skip_apps),
        sub <- ~w(ebin priv include),
        File.dir?(Path.join([root, "lib", app, sub])) do
      File.mkdir_p!(Path.join([tree, "lib", app]))
      File.cp_r!(Path.join([root, "lib", app, sub]), Path.join([tree, "lib", app, sub]))
    end

    releases = Path.join(tree, "releases/#{major}")
    File.mkdir_p!(Path.dirname(releases))
    File.cp_r!(Path.join(root, "releases/#{host_major}"), releases)
    File.write!(Path.join(releases, "OTP_VERSION"), version <> "\n")

    File.write!(
      Path.join(tree, "releases/RELEASES.src"),
      root |> Path.join("releases/RELEASES") |> File.read!() |> String.replace(root, "%ERL_ROOT%")
    )

    File.write!(Path.join(tree, "Install"), install_script(erts_version, major))
    File.chmod!(Path.join(tree, "Install"), 0o755)
  end

  defp placeholder(text, root) do
    String.replace(text, ~r/ROOTDIR=#{Regex.escape(root)}$/m, "ROOTDIR=%FINAL_ROOTDIR%")
  end

  defp install_script(erts_version, major) do
    """
    #!/bin/sh
    # Miniature of OTP's Install: same arguments, same -cross meaning (the tree is the
    # current directory, the argument is where it will live).
    start_option=query
    unset cross
    while [ $# -ne 0 ]; do
      case $1 in
        -minimal) start_option=minimal ;;
        -sasl) start_option=sasl ;;
        -cross) cross=yes ;;
        *) ERL_ROOT=$1 ;;
      esac
      shift
    done
    if [ -z "$cross" ]; then TARGET_ERL_ROOT="$ERL_ROOT"; else TARGET_ERL_ROOT="$ERL_ROOT"; ERL_ROOT=`pwd`; fi
    [ "$start_option" = minimal ] || { echo "would prompt" >&2; exit 4; }
    [ -d "$ERL_ROOT/bin" ] || mkdir "$ERL_ROOT/bin"
    cd "$ERL_ROOT/erts-#{erts_version}/bin" || exit 1
    sed -e "s;%FINAL_ROOTDIR%;$TARGET_ERL_ROOT;" erl.src > erl && chmod 755 erl
    sed -e "s;%FINAL_ROOTDIR%;$TARGET_ERL_ROOT;" start.src > start && chmod 755 start
    cd "$ERL_ROOT/bin" || exit 1
    for f in erl erlc escript start; do cp -p "$ERL_ROOT/erts-#{erts_version}/bin/$f" .; done
    ln -sf ../erts-#{erts_version}/bin/epmd epmd
    echo "#{erts_version} #{major}" > "$ERL_ROOT/releases/start_erl.data"
    sed -e "s;%ERL_ROOT%;$TARGET_ERL_ROOT;" "$ERL_ROOT/releases/RELEASES.src" > "$ERL_ROOT/releases/RELEASES"
    cp -p ../releases/#{major}/start_*.boot ../releases/#{major}/no_dot_erlang.boot .
    cp -p start_clean.boot start.boot
    """
  end
end
