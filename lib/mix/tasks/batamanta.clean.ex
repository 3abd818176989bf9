defmodule Mix.Tasks.Batamanta.Clean do
  @shortdoc "Removes batamanta's caches"

  @moduledoc """
  Removes batamanta's per-user caches and prints what it freed.

      $ mix batamanta.clean                 # everything (same as --all)
      $ mix batamanta.clean --erts          # provisioned OTP runtimes
      $ mix batamanta.clean --frames        # compressed payload frames
      $ mix batamanta.clean --extractions   # what binaries extracted on this machine

    * `--erts` - `$XDG_CACHE_HOME/batamanta/erts` (default `~/.cache/...`): OTP trees
      downloaded by `mix batamanta`. The next build downloads them again.
    * `--frames` - `$XDG_CACHE_HOME/batamanta/frames`: the compressed frames rebuilds
      reuse (`Batamanta.FrameCache`). The next build compresses everything again.
    * `--extractions` - the binaries' extraction cache (`$BATAMANTA_CACHE_DIR`, else
      `$XDG_CACHE_HOME/batamanta`, else `~/.cache/batamanta`, and the private
      `$TMPDIR/batamanta-<uid>` binaries fall back to when that is unusable). Only
      extractions carrying the dispenser's marker and the dispenser's own leftovers are
      removed, and only when no running binary uses them; the "Cache" section of
      `docs/FORMAT.md` describes the layout.
    * `--all` - all three (the default).

  Nothing batamanta did not create is deleted.
  """

  use Mix.Task

  alias Batamanta.ERTS.Cache
  alias Batamanta.{ExtractionCache, FrameCache, Native, Output, Staged}

  @switches [erts: :boolean, frames: :boolean, extractions: :boolean, all: :boolean]

  @impl true
  def run(argv) do
    {opts, rest} = OptionParser.parse!(argv, strict: @switches)

    if rest != [] do
      Mix.raise("mix batamanta.clean takes no arguments, got: #{Enum.join(rest, " ")}")
    end

    all = opts[:all] == true or not Enum.any?([:erts, :frames, :extractions], &(opts[&1] == true))
    env = System.get_env()
    if all or opts[:erts], do: remove_dir("erts", Cache.root(env))
    if all or opts[:frames], do: remove_dir("frames", FrameCache.dir(env))
    if all or opts[:extractions], do: clean_extractions(env)
  end

  defp remove_dir(name, dir) do
    size = Staged.disk_size(dir)
    File.rm_rf!(dir)
    Mix.shell().info("#{name}: removed #{dir} (#{Output.bytes(size)})")
  end

  defp clean_extractions(env) do
    native = Native.start()

    try do
      dirs = ExtractionCache.dirs(env)

      if not Enum.any?(dirs, &File.dir?/1) do
        Mix.shell().info("extractions: none (no #{Enum.join(dirs, " or ")})")
      end

      for dir <- dirs, File.dir?(dir) do
        %{removed: removed, busy: busy} = ExtractionCache.remove_unused(native, dir)

        Mix.shell().info(
          "extractions: removed #{length(removed)} from #{dir} (#{Output.bytes(Enum.sum(removed))})" <>
            if(busy == 0, do: "", else: "; kept #{busy} in use by a running binary")
        )
      end
    after
      Native.close(native)
    end
  end
end
