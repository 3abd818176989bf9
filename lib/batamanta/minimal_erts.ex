defmodule Batamanta.MinimalERTS do
  @moduledoc """
  Stages the smallest runtime that boots an escript, from a provisioned ERTS root.

      erts-<vsn>/bin/{erlexec,beam.smp,erl_child_setup,inet_gethost}
      bin/no_dot_erlang.boot
      lib/<app>-<vsn>/{ebin,priv}      kernel, stdlib and the tree's OTP applications
      lib/compiler-<vsn>/ebin/compiler.app   only the spec, see `Batamanta.AppTree`

  The boot file is the one the `escript` program boots with. Its paths are
  `$ROOT/lib/...`, and `erlexec` takes the root from `ROOTDIR`, so the tree runs from
  wherever it is extracted. Only `ebin` (with stripped BEAM files, as `mix release`
  does) and `priv` (NIFs such as `crypto.so`) of each application are copied: no
  sources, headers or docs, no Elixir (the escript embeds it) and no development tools.
  """

  alias Batamanta.{AppTree, ERTS}

  defstruct [:path, :erts_version, :boot]

  @type t :: %__MODULE__{
          path: Path.t(),
          erts_version: String.t(),
          boot: String.t()
        }

  @runtime_bins ~w(erlexec beam.smp erl_child_setup inet_gethost)
  @boot "no_dot_erlang"

  # crypto's priv holds an OpenSSL engine used only by its test suite.
  @test_only_files ~w(otp_test_engine.so)

  # Chunks kept besides the ones the loader needs: attributes (behaviours, `vsn`) and
  # line numbers for stack traces.
  @kept_chunks [~c"Attr", ~c"Line"]

  @doc "Copies the runtime for the OTP applications of `tree` from `erts` into `dest`."
  @spec stage(ERTS.t(), AppTree.t(), Path.t()) :: {:ok, t()} | {:error, String.t()}
  def stage(%ERTS{} = erts, %AppTree{otp: otp}, dest) do
    erts_bin = Path.join([erts.root, "erts-#{erts.erts_version}", "bin"])
    boot = Path.join([erts.root, "bin", @boot <> ".boot"])

    with :ok <- check_files([boot | Enum.map(@runtime_bins, &Path.join(erts_bin, &1))]) do
      copy_bins(erts_bin, Path.join([dest, "erts-#{erts.erts_version}", "bin"]))
      copy_file(boot, Path.join([dest, "bin", @boot <> ".boot"]))
      Enum.each(otp, &copy_app(&1, Path.join(dest, "lib")))

      {:ok, %__MODULE__{path: dest, erts_version: erts.erts_version, boot: @boot}}
    end
  end

  defp check_files(paths) do
    case Enum.reject(paths, &File.regular?/1) do
      [] ->
        :ok

      missing ->
        {:error,
         "the ERTS root lacks what an escript boots with: #{Enum.join(missing, ", ")}. " <>
           "Provision a complete OTP (otp_version: / erts_source:)"}
    end
  end

  defp copy_bins(from, to) do
    Enum.each(@runtime_bins, &copy_file(Path.join(from, &1), Path.join(to, &1)))
  end

  defp copy_app(%{dir: dir, spec_only: true} = app, lib) do
    name = Path.basename(dir)
    file = Path.join("ebin", "#{app.name}.app")
    copy_file(Path.join(dir, file), Path.join([lib, name, file]))
  end

  defp copy_app(%{dir: dir}, lib) do
    name = Path.basename(dir)
    app_dir = Path.join(lib, name)

    dir
    |> Path.join("ebin/*")
    |> Path.wildcard()
    |> Enum.each(&copy_ebin_file(&1, Path.join([app_dir, "ebin", Path.basename(&1)])))

    dir
    |> Path.join("priv/**")
    |> Path.wildcard(match_dot: true)
    |> Enum.filter(&File.regular?/1)
    |> Enum.reject(&(Path.basename(&1) in @test_only_files))
    |> Enum.each(&copy_file(&1, Path.join(app_dir, Path.relative_to(&1, dir))))
  end

  defp copy_ebin_file(from, to) do
    if Path.extname(from) == ".beam" do
      {:ok, {_module, stripped}} = :beam_lib.strip(File.read!(from), @kept_chunks)
      File.mkdir_p!(Path.dirname(to))
      File.write!(to, gunzip(stripped))
    else
      copy_file(from, to)
    end
  end

  # beam_lib gzips what it strips; the loader takes either, and zstd compresses the
  # plain chunks of all files together far better.
  defp gunzip(<<0x1F, 0x8B, _::binary>> = gzipped), do: :zlib.gunzip(gzipped)
  defp gunzip(beam), do: beam

  defp copy_file(from, to) do
    File.mkdir_p!(Path.dirname(to))
    File.cp!(from, to)
    File.chmod!(to, File.stat!(from).mode)
  end
end
