import CLibc

/// Runs the application as a child of the dispenser, which stays behind only to pass
/// signals on and to put the terminal back whichever way the run ends.
struct Supervisor {
    /// The signals that end a run: forwarded, then the terminal is restored at once
    /// rather than when the VM is gone, since a VM that ignores them may keep running.
    private static let terminating: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]
    private static let forwarded: [Int32] = terminating + [SIGWINCH, SIGUSR1, SIGUSR2]

    private enum End {
        case exited(Int32)
        case killed(Int32)
    }

    let launch: Launch
    let terminal: Terminal

    /// The exit status for the dispenser: the VM's own, 128+N when signal N killed it,
    /// and 128+N as well when the VM stopped cleanly after a terminating signal N was
    /// forwarded (the VM exits 0 on SIGTERM): the caller must see that the program was
    /// interrupted, not that it finished.
    func run() -> Result<Int32, Failure> {
        // Blocked from before raw mode on, so no signal can end the dispenser with the
        // terminal left raw; they are taken with sigwaitinfo, never by handlers.
        var watched = sigset_t()
        sigemptyset(&watched)
        for signal in Self.forwarded + [SIGCHLD] { sigaddset(&watched, signal) }
        var originalMask = sigset_t()
        sigprocmask(SIG_BLOCK, &watched, &originalMask)
        // A SIGCHLD ignored by whoever started us would let the kernel reap the VM, and
        // its exit status would be lost.
        _ = bm_tui_default_disposition(SIGCHLD)

        if case .failure(let errno) = terminal.enterRawMode() {
            sigprocmask(SIG_SETMASK, &originalMask, nil)
            return .failure(Failure(errno: errno.rawValue, path: launch.executable, "cannot put the terminal in raw mode"))
        }
        let child = fork()
        if child < 0 {
            let failure = Failure(errno: Errno.current.rawValue, path: launch.executable, "cannot start the application")
            terminal.restore()
            return .failure(failure)
        }
        if child == 0 {
            sigprocmask(SIG_SETMASK, &originalMask, nil)
            let failure = launch.exec()
            failure.report()
            _exit(failure.code.rawValue)
        }

        let result = supervise(child, watching: watched)
        terminal.restore()
        return result
    }

    private func supervise(_ child: pid_t, watching watched: sigset_t) -> Result<Int32, Failure> {
        var watched = watched
        var stoppedBy: Int32?
        while true {
            var info = siginfo_t()
            let signal = sigwaitinfo(&watched, &info)
            if signal < 0 {
                if Errno.current == Errno(EINTR) { continue }
                return .failure(Failure(errno: Errno.current.rawValue, path: launch.executable, "cannot wait for signals"))
            }
            if signal == SIGCHLD {
                switch reap(child) {
                case .success(nil): continue
                case .success(.exited(let code)?): return .success(code == 0 ? stoppedBy.map { 128 + $0 } ?? 0 : code)
                case .success(.killed(let number)?): return .success(128 + number)
                case .failure(let failure): return .failure(failure)
                }
            }
            // The terminal driver sends SIGWINCH and SIGHUP to the whole foreground
            // process group, the VM included: passing those on would deliver them twice.
            if info.si_code != SI_KERNEL { kill(child, signal) }
            if Self.terminating.contains(signal) {
                if stoppedBy == nil { terminal.restore() }
                stoppedBy = signal
            }
        }
    }

    /// nil while the child runs (SIGCHLD also reports stops and continues).
    private func reap(_ child: pid_t) -> Result<End?, Failure> {
        let status: Int32
        switch waitForChild(child, options: WNOHANG) {
        case .success(nil): return .success(nil)
        case .success(let reported?): status = reported
        case .failure(let errno): return .failure(Failure(errno: errno.rawValue, path: launch.executable, "cannot wait for the application"))
        }
        var code: Int32 = 0
        var signal: Int32 = 0
        switch bm_tui_decode_status(status, &code, &signal) {
        case 1: return .success(.exited(code))
        case 2: return .success(.killed(signal))
        default: return .success(nil)
        }
    }
}
