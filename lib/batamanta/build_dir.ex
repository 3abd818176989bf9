defmodule Batamanta.BuildDir do
  @moduledoc """
  The private places one `mix batamanta` run works in.

    * `create/1` makes the run's temporary directory the way `mkdtemp(3)` does: a random
      name under `System.tmp_dir!/0`, created with `mkdir` (which fails on an existing
      name, so another process or user can never hand us a directory or a symlink), mode
      `0700`, so no other user reads the project's code while it is staged.
    * `with_project_lock/4` makes builds of one project take turns for the step that
      writes its `_build`.
    * `check_output/1` refuses an output path that is a directory before any work.
  """

  alias Batamanta.Native

  @attempts 100

  @doc "Creates a new private directory under `parent` (default `System.tmp_dir!/0`)."
  @spec create(Path.t()) :: {:ok, Path.t()} | {:error, String.t()}
  def create(parent \\ System.tmp_dir!()), do: create(parent, @attempts)

  defp create(parent, 0) do
    {:error, "could not create a private temporary directory under #{parent} (TMPDIR)"}
  end

  defp create(parent, attempts) do
    suffix = Base.encode32(:rand.bytes(10), case: :lower, padding: false)
    dir = Path.join(parent, "batamanta-" <> suffix)

    # The mode is set on the new, empty directory before anything goes in, so the umask
    # never matters.
    case :file.make_dir(dir) do
      :ok ->
        File.chmod!(dir, 0o700)
        {:ok, dir}

      {:error, :eexist} ->
        create(parent, attempts - 1)

      {:error, reason} ->
        {:error,
         "cannot create a temporary directory in #{parent} (TMPDIR): " <>
           "#{:file.format_error(reason)}; set TMPDIR to a writable directory"}
    end
  end

  @doc "Checks that `output` can be written as a file: it must not be a directory."
  @spec check_output(Path.t()) :: :ok | {:error, String.t()}
  def check_output(output) do
    if File.dir?(output) do
      {:error,
       "the output #{output} (option output: / --output) is a directory; give the path of " <>
         "the file to write, such as #{Path.join(output, "NAME")}"}
    else
      :ok
    end
  end

  @doc """
  Runs `fun` holding an exclusive lock on the directory `project_root`, waiting while
  another build holds it; `on_progress` gets the helper's `"lock"` event when it waits.

  Two `mix release` runs in one project write the same `_build`, which Mix does not
  guard, so builds of one project take turns for that step. The output needs no lock:
  the helper writes it under a temporary name and renames it into place, so concurrent
  builds into one path each leave a whole binary and the last one wins.
  """
  @spec with_project_lock(Native.t(), Path.t(), (map() -> :ok), (() -> result)) ::
          result | {:error, String.t()}
        when result: term()
  def with_project_lock(native, project_root, on_progress, fun) do
    args = %{path: project_root, wait: true, create: false}

    case Native.with_lock(native, args, on_progress, fun) do
      {:error, code, message} ->
        {:error, "cannot lock the project directory #{project_root}: #{message} (#{code})"}

      result ->
        result
    end
  end
end
