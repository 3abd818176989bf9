defmodule Batamanta.Test.Aarch64 do
  @moduledoc """
  Runs aarch64 binaries on this x86_64 machine, and serves them an aarch64 OTP.

  `scripts/install-deps` unpacks Debian's arm64 packages into `.build-cross/aarch64-linux/`:
  `rootfs/` (erlang-base, erlang-crypto, erlang-inets and the libraries they and epmd load) and
  `qemu/` (qemu-user-static). Nothing is installed system-wide.

  Programs run in a private user and mount namespace with its own binfmt_misc, where
  aarch64 ELF files are registered to qemu with the F flag (the kernel opens the emulator
  once, so it works from any mount namespace). A test module makes one with `start/0`
  and enters it for every command, like programs sharing one machine: a daemon's
  `status` must see its VM's /proc/<pid>/exe, which another user namespace may not read. Binfmt is what lets the VM's
  nested execs (`erlexec` -> `beam.smp` -> `erl_child_setup`) run too. `QEMU_LD_PREFIX`
  makes the emulator resolve `/lib/ld-linux-aarch64.so.1` and the libraries in the root.

  `ERL_FLAGS="+JPperf true"` is for qemu alone: OTP 25's JIT dual-maps its code memory
  (W^X), which qemu-user cannot emulate, and segfaults; perf support makes it use one
  RWX mapping. On aarch64 hardware no flag is needed.
  """

  alias Mix.Tasks.Compile.BatamantaNative

  @triple "aarch64-linux-gnu"
  @register ":qemu-aarch64:M::" <>
              "\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:" <>
              "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:"

  # Mounts a binfmt_misc of the namespace's own, registers qemu, then waits to be entered.
  @hold """
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc &&
  printf '%s' "$1" > /proc/sys/fs/binfmt_misc/register &&
  exec sleep 86400
  """

  def triple, do: @triple

  defp cross, do: Path.join(BatamantaNative.root(), ".build-cross/aarch64-linux")
  defp rootfs, do: Path.join(cross(), "rootfs")
  def qemu, do: Path.join(cross(), "qemu/usr/bin/qemu-aarch64-static")

  @doc "Fails with the fix when install-deps has not fetched the arm64 packages."
  def require! do
    for path <- [qemu(), Path.join(rootfs(), "usr/lib/erlang/releases")],
        not File.exists?(path) do
      raise "#{path} is missing: run scripts/install-deps (it fetches the arm64 packages)"
    end

    :ok
  end

  @doc """
  Writes a mirror (`<dir>/<triple>/OTP-<version>.tar.gz` and `SHA256SUMS`) of Debian's
  arm64 OTP, tarred with `tar -czf` as an installed tree is, its symlinks
  (`bin/epmd -> ../erts-*/bin/epmd`) kept, and returns its URL.
  """
  def mirror(dir) do
    version = Batamanta.Test.OTPFixture.host_version()
    releases = Path.join(rootfs(), "usr/lib/erlang/releases/#{hd(String.split(version, "."))}")
    ^version = releases |> Path.join("OTP_VERSION") |> File.read!() |> String.trim()

    target = Path.join(dir, @triple)
    File.mkdir_p!(target)
    tarball = Path.join(target, "OTP-#{version}.tar.gz")
    {_, 0} = System.cmd("tar", ["-czf", tarball, "-C", Path.join(rootfs(), "usr/lib"), "erlang"])
    {listing, 0} = System.cmd("tar", ["-tvzf", tarball])
    true = listing =~ ~r{erlang/bin/epmd -> \.\./erts-[\d.]+/bin/epmd}
    sha = Batamanta.Test.OTPFixture.sha256(tarball)
    File.write!(Path.join(target, "SHA256SUMS"), "#{sha}  OTP-#{version}.tar.gz\n")
    "file://" <> dir
  end

  @doc "Starts the namespace; returns the pid `cmd/4` enters, stopped with `stop/1`."
  def start do
    port =
      Port.open({:spawn_executable, System.find_executable("unshare")}, [
        :binary,
        args: ["-Urm", "sh", "-c", @hold, "sh", @register <> qemu() <> ":F"]
      ])

    {:os_pid, pid} = Port.info(port, :os_pid)
    # Registered once the holder is sleeping, its last step.
    wait_for_sleep(pid, 100)
    pid
  end

  defp wait_for_sleep(pid, tries) do
    case File.read("/proc/#{pid}/comm") do
      {:ok, "sleep\n"} -> :ok
      _ when tries > 0 -> Process.sleep(50) && wait_for_sleep(pid, tries - 1)
      other -> raise "the qemu namespace did not start: #{inspect(other)}"
    end
  end

  def stop(namespace), do: System.cmd("kill", [to_string(namespace)])

  @doc "Runs `program args` under qemu in `namespace`; options as `System.cmd/3`'s."
  def cmd(namespace, program, args, opts \\ []) do
    {env, opts} = Keyword.pop(opts, :env, [])
    [command | args] = enter(namespace, program, args)
    System.cmd(command, args, [env: env(env), stderr_to_stdout: true] ++ opts)
  end

  @doc "The shell command line `cmd/4` runs, for a tmux pane."
  def command_line(namespace, program, args) do
    namespace |> enter(program, args) |> Enum.map_join(" ", &shell_quote/1)
  end

  defp enter(namespace, program, args) do
    ["nsenter", "-t", to_string(namespace), "-U", "-m", "--preserve-credentials", program | args]
  end

  @doc "The environment `cmd/4` adds."
  def env(extra \\ []) do
    [{"QEMU_LD_PREFIX", rootfs()}, {"ERL_FLAGS", "+JPperf true"} | extra]
  end

  defp shell_quote(word), do: "'" <> String.replace(word, "'", "'\\''") <> "'"
end
