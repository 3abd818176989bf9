defmodule Batamanta.Test.ErlangHidden do
  @moduledoc """
  Runs a built binary under bubblewrap with the system's Erlang and Elixir hidden
  (empty tmpfs over /usr/lib/erlang and /usr/lib/elixir), so it can only use what its
  payload brings. The script checks that `erl` is really gone before exec'ing the
  binary with `args`. Only `cache` is writable; `env` (name-value pairs) is set inside,
  so a daemon's state dir or HOME can point into `cache`.
  """

  @doc "Runs `binary args...` hidden; returns `{output, status}` with stderr merged."
  def run(binary, args, cache, env \\ []) do
    bwrap = System.find_executable("bwrap") || raise "bubblewrap (bwrap) is needed for this test"
    File.mkdir_p!(cache)

    script = """
    if command -v erl >/dev/null 2>&1; then echo "erl is visible"; exit 99; fi
    if [ -n "$(ls -A /usr/lib/erlang)" ]; then echo "/usr/lib/erlang is visible"; exit 98; fi
    exec "$0" "$@"
    """

    bwrap_args =
      ~w(--ro-bind / / --dev /dev --proc /proc --tmpfs /usr/lib/erlang --tmpfs /usr/lib/elixir) ++
        ["--bind", cache, cache] ++
        ["--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin:/sbin"] ++
        ["--setenv", "BATAMANTA_CACHE_DIR", cache, "--setenv", "LANG", "C.UTF-8"] ++
        Enum.flat_map(env, fn {name, value} -> ["--setenv", name, value] end) ++
        ["sh", "-c", script, binary | args]

    System.cmd(bwrap, bwrap_args, stderr_to_stdout: true)
  end
end
