defmodule Batamanta.RuntimeSwap do
  @moduledoc """
  Turns a release built on this machine's OTP into one for another platform by swapping
  in the target's runtime, the way `mix release` would have copied it there:

    * `erts-<vsn>/bin/` gets the target's executables, except `erl`, which `mix release`
      writes itself (a relocatable script) instead of copying the installed one;
    * each OTP application's `priv/` (NIFs such as `crypto.so`, port programs) becomes
      the target's.

  BEAM files are portable and stay. The target's OTP is the very same version as the
  host's (`Batamanta.ERTS` makes sure), so the application versions in the `.rel`, the
  boot script and `start_erl.data` stay right.

  Native code of the project's own dependencies (a NIF in a dep's `priv/`) was compiled
  here, for this machine, and nothing can swap it: such a release is refused.
  """

  alias Batamanta.{ERTS, Staged, Target}

  # What mix release writes into erts-<vsn>/bin itself rather than copies.
  @written_by_mix ~w(erl erl.ini)

  @doc """
  Swaps `erts` (the target's provisioned runtime) into the staged `release`, which was
  built on the OTP at `host_root`. Returns the OTP applications whose `priv/` it
  replaced.
  """
  @spec swap(Staged.t(), ERTS.t(), Target.t(), Path.t()) ::
          {:ok, [String.t()]} | {:error, String.t()}
  def swap(%Staged{format: :release} = release, %ERTS{} = erts, %Target{} = target, host_root) do
    {otp_apps, own_apps} = split_apps(release, host_root)

    with :ok <- check_erts(release, erts),
         :ok <- check_apps(otp_apps, erts, target),
         :ok <- check_no_native_code(own_apps, release, target) do
      swap_erts(release, erts)
      Enum.each(otp_apps, &swap_priv(&1, release, erts))
      {:ok, otp_apps}
    end
  end

  # An application of the release came from the host's OTP when the host has a
  # directory of the same name and version; the others are Elixir's and the project's.
  defp split_apps(release, host_root) do
    release.path
    |> Path.join("lib")
    |> File.ls!()
    |> Enum.sort()
    |> Enum.split_with(&File.dir?(Path.join([host_root, "lib", &1])))
  end

  defp check_erts(release, erts) do
    if release.erts_version == erts.erts_version do
      :ok
    else
      {:error,
       "the release was built with ERTS #{release.erts_version} but the target's OTP " <>
         "#{erts.otp_version} at #{erts.root} has ERTS #{erts.erts_version}; both must be " <>
         "the same build of OTP #{erts.otp_version}. Check the mirror's tarball"}
    end
  end

  defp check_apps(otp_apps, erts, target) do
    case Enum.reject(otp_apps, &File.dir?(Path.join([erts.root, "lib", &1]))) do
      [] ->
        :ok

      missing ->
        {:error,
         "the release uses #{Enum.join(missing, ", ")}, which the OTP for #{target.triple} at " <>
           "#{erts.root} lacks; that OTP build leaves them out. Use a mirror whose OTP has " <>
           "them, or drop them from the project's applications"}
    end
  end

  defp check_no_native_code(own_apps, release, target) do
    native = Enum.filter(Staged.nif_files(release), &(app_of(&1, release) in own_apps))

    case native do
      [] ->
        :ok

      files ->
        shown = Enum.map_join(files, ", ", &Path.relative_to(&1, release.path))

        {:error,
         "#{shown} was compiled on this machine for this machine and cannot run on " <>
           "#{target.triple}; batamanta can only swap OTP's own native code. Run mix " <>
           "batamanta on a #{target.triple} machine to build this project for it"}
    end
  end

  defp app_of(file, release) do
    case Path.split(Path.relative_to(file, release.path)) do
      ["lib", app | _] -> app
      _ -> nil
    end
  end

  defp swap_erts(release, erts) do
    bin = Path.join(Staged.erts_dir(release), "bin")
    from = Path.join([erts.root, "erts-#{erts.erts_version}", "bin"])

    for file <- File.ls!(bin), file not in @written_by_mix, do: File.rm_rf!(Path.join(bin, file))

    for file <- File.ls!(from),
        file not in @written_by_mix,
        do: File.cp_r!(Path.join(from, file), Path.join(bin, file))
  end

  defp swap_priv(app, release, erts) do
    priv = Path.join([release.path, "lib", app, "priv"])
    File.rm_rf!(priv)
    from = Path.join([erts.root, "lib", app, "priv"])
    if File.dir?(from), do: File.cp_r!(from, priv)
  end
end
