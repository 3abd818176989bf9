defmodule Batamanta.ERTS.Tree do
  @moduledoc """
  Turns an OTP tarball into an install tree and checks that a tree is one.

  Public OTP builds (Hex's, and what `make release` produces in general) ship the
  release tree before its `Install` step: `erts-*/bin/erl.src` and friends still hold the
  `%FINAL_ROOTDIR%` placeholder and `bin/` may be missing. `install/2` runs the tree's
  own `Install -cross -minimal <final dir>` script, which fills in the final location
  while the files are still in a temporary directory, so the tree can then be renamed
  into the cache atomically.
  """

  alias Batamanta.Native

  @placeholder "%FINAL_ROOTDIR%"

  @doc """
  Extracts `tarball` into `dir` with the helper's tar reader and returns the tree's root
  (`dir` itself, or the one folder the tarball wraps the tree in) and the symlinks left
  out because they point outside the tree, as `{path, target}`.

  Tarballs of an installed OTP (`tar -C /usr/lib -czf OTP-25.2.3.tar.gz erlang`) hold
  relative symlinks such as `bin/epmd -> ../erts-*/bin/epmd`, kept, and sometimes links
  into the system (`common_test`'s `priv/` into `/usr/share/javascript` on Debian), which
  a self-contained runtime cannot carry.
  """
  @spec unpack(Native.t(), Path.t(), Path.t(), (map() -> any())) ::
          {:ok, Path.t(), [{String.t(), String.t()}]} | {:error, String.t()}
  def unpack(native, tarball, dir, on_progress \\ fn _ -> :ok end) do
    case Native.request(native, :unpack, %{archive: tarball, output: dir}, on_progress) do
      {:ok, %{dropped: dropped}} ->
        with {:ok, root} <- find_root(dir, tarball),
             do: {:ok, root, Enum.map(dropped, &{&1.path, &1.target})}

      {:error, _code, message} ->
        {:error, message}
    end
  end

  defp find_root(dir, tarball) do
    subdirs = dir |> File.ls!() |> Enum.map(&Path.join(dir, &1)) |> Enum.filter(&File.dir?/1)

    cond do
      erts_dirs(dir) != [] ->
        {:ok, dir}

      match?([_], subdirs) and erts_dirs(hd(subdirs)) != [] ->
        {:ok, hd(subdirs)}

      true ->
        {:error,
         "#{tarball} holds no OTP install tree: expected erts-*/, lib/ and releases/ at its " <>
           "top or under a single folder"}
    end
  end

  @doc """
  Runs the tree's `Install` step when its scripts still carry the placeholder ROOTDIR,
  writing `final` (where the tree will live) into them. A tree that was installed
  elsewhere (a tarball of `/usr/lib/erlang`) has that location written into its start
  scripts instead, and Debian's `erl` uses it even when run from another place: it is
  replaced with `final`.
  """
  @spec install(Path.t(), Path.t()) :: :ok | {:error, String.t()}
  def install(root, final) do
    script = Path.join(root, "Install")

    cond do
      not needs_install?(root) ->
        relocate(root, final)

      not File.regular?(script) ->
        {:error,
         "the OTP tree from the tarball still needs its Install step (#{@placeholder} in its " <>
           "scripts) but has no Install script; the tarball is not a `make release` tree"}

      not embeddable?(final) ->
        unembeddable(final)

      true ->
        run_install(root, final)
    end
  end

  # Install substitutes the path with sed and embeds it in sh scripts unquoted, and so
  # does relocate/2.
  defp embeddable?(final), do: not String.contains?(final, [";", "&", "\\", "\"", "$", "`", "\n"])

  defp unembeddable(final) do
    {:error,
     "the ERTS cache path #{inspect(final)} contains a character OTP's start scripts " <>
       "cannot embed; set XDG_CACHE_HOME to a plainer directory"}
  end

  defp relocate(root, final) do
    case installed_root(root) do
      nil ->
        :ok

      ^final ->
        :ok

      old ->
        if embeddable?(final), do: rewrite_scripts(root, old, final), else: unembeddable(final)
    end
  end

  defp installed_root(root) do
    with {:ok, text} <- File.read(Path.join(root, "bin/erl")),
         [_, dir] <- Regex.run(~r/^\s*ROOTDIR="?(\/[^"\s]*)"?\s*$/m, text) do
      dir
    else
      _ -> nil
    end
  end

  defp rewrite_scripts(root, old, final) do
    scripts =
      for file <-
            Path.wildcard(Path.join(root, "bin/*")) ++
              Path.wildcard(Path.join(root, "erts-*/bin/*")),
          match?({:ok, %File.Stat{type: :regular}}, File.lstat(file)),
          match?({:ok, "#!"}, File.open(file, [:read], &IO.binread(&1, 2))),
          do: file

    Enum.each(scripts ++ [Path.join(root, "releases/RELEASES")], fn file ->
      with {:ok, text} <- File.read(file), do: File.write!(file, String.replace(text, old, final))
    end)
  end

  defp run_install(root, final) do
    case System.cmd("sh", ["Install", "-cross", "-minimal", final],
           cd: root,
           stderr_to_stdout: true
         ) do
      {_, 0} ->
        if needs_install?(root),
          do: {:error, "#{root}/Install ran but bin/erl still holds #{@placeholder}"},
          else: :ok

      {output, status} ->
        {:error, "#{root}/Install -cross -minimal failed with exit status #{status}:\n#{output}"}
    end
  end

  defp needs_install?(root) do
    case File.read(Path.join(root, "bin/erl")) do
      {:ok, contents} -> String.contains?(contents, @placeholder)
      {:error, _} -> true
    end
  end

  @doc """
  Checks that `root` is a complete, installed OTP tree and reads its versions.
  """
  @spec verify(Path.t()) ::
          {:ok, %{erts_version: String.t(), otp_version: String.t()}} | {:error, String.t()}
  def verify(root) do
    with {:ok, erts_version} <- erts_version(root),
         :ok <- has_app(root, "kernel"),
         :ok <- has_app(root, "stdlib"),
         {:ok, otp_version} <- otp_version(root),
         :ok <- installed(root) do
      {:ok, %{erts_version: erts_version, otp_version: otp_version}}
    end
  end

  defp erts_version(root) do
    case erts_dirs(root) do
      [dir] ->
        if File.regular?(Path.join(dir, "bin/beam.smp")),
          do: {:ok, String.replace_prefix(Path.basename(dir), "erts-", "")},
          else: {:error, "#{dir}/bin/beam.smp is missing: the OTP tree at #{root} has no VM"}

      [] ->
        {:error, "#{root} has no erts-* directory"}

      several ->
        {:error, "#{root} has several erts directories (#{Enum.join(several, ", ")})"}
    end
  end

  defp has_app(root, app) do
    if Path.wildcard(Path.join(root, "lib/#{app}-*/ebin/#{app}.app")) != [],
      do: :ok,
      else: {:error, "#{root}/lib has no #{app} application"}
  end

  defp otp_version(root) do
    case Path.wildcard(Path.join(root, "releases/*/OTP_VERSION")) do
      [file] -> {:ok, file |> File.read!() |> String.trim()}
      [] -> {:error, "#{root}/releases/<major>/OTP_VERSION is missing"}
      files -> {:error, "#{root} has several OTP_VERSION files: #{Enum.join(files, ", ")}"}
    end
  end

  defp installed(root) do
    if needs_install?(root),
      do: {:error, "#{root}/bin/erl is missing or was never installed"},
      else: :ok
  end

  defp erts_dirs(root) do
    root |> Path.join("erts-*") |> Path.wildcard() |> Enum.filter(&File.dir?/1)
  end
end
