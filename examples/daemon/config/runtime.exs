import Config

# Read at every start, so one binary serves on whatever port its environment names.
config :hello_daemon, port: String.to_integer(System.get_env("HELLO_DAEMON_PORT", "4040"))
