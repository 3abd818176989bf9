# Nothing a test starts may read or write the real ~/.cache/batamanta, ~/.local/state or
# ~/.erlang.cookie: every child (mix batamanta, a built binary, the helper) inherits a
# home, cache and state root made for this run. It is one root per run, not per test, so
# the ERTS cache under XDG_CACHE_HOME is still shared by the builds of one run. The root
# is private and unique across processes, so concurrent runs never share (or delete) it.
{:ok, root} = Batamanta.BuildDir.create()

# What a machine builds once for its test runs (scripts/musl-otp's runtime) stays in the
# real cache: it is the one thing the isolation must not hide.
unless Batamanta.Env.set?(System.get_env(), "BATAMANTA_CI_CACHE") do
  home =
    Batamanta.Env.value(System.get_env(), "XDG_CACHE_HOME") ||
      Path.join(System.user_home!(), ".cache")

  System.put_env("BATAMANTA_CI_CACHE", Path.join(home, "batamanta-ci"))
end

for {name, dir} <- [
      {"HOME", "home"},
      {"XDG_CACHE_HOME", "cache"},
      {"XDG_STATE_HOME", "state"},
      {"BATAMANTA_CACHE_DIR", "dispenser-cache"},
      {"TMPDIR", "tmp"}
    ] do
  path = Path.join(root, dir)
  File.mkdir_p!(path)
  File.chmod!(path, 0o700)
  System.put_env(name, path)
end

ExUnit.after_suite(fn _ -> File.rm_rf(root) end)
ExUnit.start()
