import CLibc

/// Runs the application as a child of the dispenser, which stays behind only to pass
/// signals on and to put the terminal back whichever way the run ends.
struct Supervisor {
    /// The signals that end a run: forwarded, then the terminal is restored at once
    /// rather than when the VM is gone, since a VM that ignores them may keep running.
    private static let terminating: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]
    private static let forwarded: [Int32] = terminating + [SIGWINCH, SIGUSR1, SIGUSR2]

    let launch: Launch
    let terminal: Terminal

    /// The exit status for the dispenser: the VM's own, 128+N when signal N killed it,
    /// and 128+N as well when the VM stopped cleanly after a terminating signal N was
    /// forwarded (the VM exits 0 on SIGTERM): the caller must see that the program was
    /// interrupted, not that it finished.
    func run() throws(Failure) -> Int32 {
        // Blocked from before raw mode on, so no signal can end the dispenser with the
        // terminal left raw; they are taken with sigwaitinfo, never by handlers.
        var watched = sigset_t()
        sigemptyset(&watched)
        for signal in Self.forwarded + [SIGCHLD] { sigaddset(&watched, signal) }
        var originalMask = sigset_t()
        sigprocmask(SIG_BLOCK, &watched, &originalMask)
        // A SIGCHLD ignored by whoever started us would let the kernel reap the VM, and
        // its exit status would be lost.
        _ = bm_default_disposition(SIGCHLD)

        try terminal.enterRawMode().orThrow { errno in
            sigprocmask(SIG_SETMASK, &originalMask, nil)
            return Failure(errno: errno, path: launch.executable, "cannot put the terminal in raw mode")
        }
        let child = fork()
        if child < 0 {
            let failure = Failure(errno: .current, path: launch.executable, "cannot start the application")
            terminal.restore()
            throw failure
        }
        if child == 0 {
            sigprocmask(SIG_SETMASK, &originalMask, nil)
            do throws(Failure) {
                try launch.exec()
            } catch {
                error.report()
                _exit(error.code.rawValue)
            }
        }
        defer { terminal.restore() }
        return try supervise(child, watching: watched)
    }

    private func supervise(_ child: pid_t, watching watched: sigset_t) throws(Failure) -> Int32 {
        var watched = watched
        var stoppedBy: Int32?
        while true {
            var info = siginfo_t()
            let signal = try valueOrErrno { Platform.waitForSignal(&watched, &info) }.orThrow {
                Failure(errno: $0, path: launch.executable, "cannot wait for signals")
            }
            if signal == SIGCHLD {
                let ended = try waitForChild(child, options: WNOHANG).orThrow {
                    Failure(errno: $0, path: launch.executable, "cannot wait for the application")
                }
                switch ended {
                case .exited(let code)?: return code == 0 ? stoppedBy.map { 128 + $0 } ?? 0 : code
                case .signaled(let number)?: return 128 + number
                // SIGCHLD also reports stops and continues.
                case .running?, nil: continue
                }
            }
            // The terminal driver sends SIGWINCH and SIGHUP to the whole foreground
            // process group, the VM included: passing those on would deliver them twice.
            if !Platform.isFromKernel(info) { kill(child, signal) }
            if Self.terminating.contains(signal) {
                if stoppedBy == nil { terminal.restore() }
                stoppedBy = signal
            }
        }
    }
}
