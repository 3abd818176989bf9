import CErlInterface
import Glibc

/// The helper's entry point, kept in the library so tests reach everything it uses.
public enum Helper {
    /// Serves the port on stdin/stdout; returns the exit status.
    public static func run() -> Int32 {
        // A closed port must end in an exit status, not a SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        guard ei_init() == 0 else {
            Diagnostics.log("erl_interface failed to initialise")
            return 1
        }
        return Server(port: .standard, cancellation: Cancellation(watchedDescriptor: 0, clock: .system)).run()
    }
}
