/// `--help`. The exit statuses listed here are the contract of the daemon binary.
enum Help {
    static func text(program: [UInt8], app: [UInt8]) -> [UInt8] {
        joined(
            Array("usage: ".utf8), program, Array(" [COMMAND]\n\n".utf8),
            Array("Runs ".utf8), app, Array(" in the background and manages it.\n\n".utf8),
            bytes("""
            commands:
              start [--timeout N] [-- ARGS...]
                                 start detached and wait (default 60 s) until boot finished;
                                 ARGS reach the app as System.argv(); the default command
              foreground [-- ARGS...]
                                 run attached: logs on stdout/stderr, SIGTERM stops it,
                                 exits with the VM's status (systemd Type=exec, containers)
              restart [--timeout N] [-- ARGS...]
                                 stop if running, then start; N bounds each
              stop [--timeout N] stop gracefully (SIGTERM, the app's stop/1 runs), SIGKILL
                                 after N seconds (default 30)
              status             print whether it runs; exit 0 if running, 3 if not
              pid                print the pid of the running VM
              logs [-f]          print the log; -f keeps following it
              remote             open an IEx shell on the running node (release only)
              rpc EXPR           evaluate Elixir EXPR on the running node (release only)
              eval EXPR          evaluate Elixir EXPR in a fresh VM with the app's code (release only)
              version            print the release's name and version
              help, --help       this text

            node: -sname RELEASE unless RELEASE_NODE, RELEASE_DISTRIBUTION (sname, name, none)
            or RELEASE_COOKIE say otherwise, in the environment or in the release's env.sh

            files: $XDG_STATE_HOME/batamanta/RELEASE/ (default ~/.local/state/batamanta/RELEASE/):
              NODE.log, NODE.pid, NODE.lock, and cookie, shared by the release's nodes

            BATAMANTA_MAINTENANCE=info|path|uninstall describes or removes the extraction

            exit status: 0 done; 1 refused or failed (already running, not running, boot
            failed); 3 status: not running; 64 usage error; 65-77 the dispenser's own
            errors (see the README); otherwise the status of remote, rpc or eval.

            """)
        )
    }
}
