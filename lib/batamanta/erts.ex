defmodule Batamanta.ERTS do
  @moduledoc """
  Provisions the Erlang runtime that goes into the binary.

  For now that is the runtime running this build (`:code.root_dir/0`), which suits a
  target equal to the host. Downloaded runtimes for other targets come in as another
  clause of `provision/2`, keeping the rest of the pipeline unchanged.
  """

  alias Batamanta.{Config, Target}

  defstruct [:root, :erts_version, :otp_version, :source]

  @type t :: %__MODULE__{
          root: Path.t(),
          erts_version: String.t(),
          otp_version: String.t(),
          source: :host
        }

  @doc """
  Returns the runtime to embed for `target`.
  """
  @spec provision(Config.t(), Target.t()) :: {:ok, t()} | {:error, String.t()}
  def provision(%Config{} = config, %Target{host?: true}) do
    erts = host()

    if config.otp_version in [:auto, erts.otp_version] do
      {:ok, erts}
    else
      {:error,
       "otp_version: #{inspect(config.otp_version)} was requested, but this build can only " <>
         "embed the host's OTP #{erts.otp_version} (#{erts.root}) so far. " <>
         "Use otp_version: :auto, or build with that OTP on PATH"}
    end
  end

  def provision(%Config{}, %Target{triple: triple}) do
    {:error,
     "target #{triple} is not this machine; cross-target ERTS provisioning is not available " <>
       "yet. Remove erts_target/force_os/force_arch/force_libc to build for the host"}
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
