import CLibc

/// `stop`, `status` and `pid`: they read the pid file and never extract anything.
enum Control {
    static let notRunningStatus: Int32 = 3

    static func stop(_ state: StateDirectory, timeout: Int) -> Result<Int32, DaemonFailure> {
        let lock: FileDescriptor
        switch state.lock() {
        case .success(let held): lock = held
        case .failure(let failure): return .failure(failure)
        }
        defer { lock.close() }
        let running: PidFile
        switch PidFile.running(state) {
        case .failure(let failure): return .failure(failure)
        case .success(nil): return .failure(.refused(state.app, Array(" is not running".utf8)))
        case .success(let file?): running = file
        }
        // The VM turns SIGTERM into init:stop(), which stops the applications in order,
        // so their stop/1 callbacks run.
        ProcessInfo.signal(running.pid, SIGTERM)
        var how: [UInt8] = Array("stopped ".utf8)
        if !ProcessInfo.waitUntil(timeout: timeout * 1000, { !running.isOurRunningVM }) {
            ProcessInfo.signal(running.pid, SIGKILL)
            _ = ProcessInfo.waitUntil(timeout: 10_000) { !running.isOurRunningVM }
            how = joined(Array("killed (no graceful stop within ".utf8), decimalDigits(UInt64(timeout)), Array(" s) ".utf8))
        }
        state.remove(state.pidName)
        say(how, state.app, Array(" (pid ".utf8), running.pidText, Array(")".utf8))
        return .success(0)
    }

    /// LSB: 0 when running, 3 when not.
    static func status(_ state: StateDirectory) -> Result<Int32, DaemonFailure> {
        switch PidFile.running(state) {
        case .failure(let failure):
            return .failure(failure)
        case .success(let running?):
            say(state.app, Array(" is running (pid ".utf8), running.pidText, Array(")".utf8))
            return .success(0)
        case .success(nil):
            say(state.app, Array(" is not running".utf8))
            return .success(notRunningStatus)
        }
    }

    static func pid(_ state: StateDirectory) -> Result<Int32, DaemonFailure> {
        switch PidFile.running(state) {
        case .failure(let failure): return .failure(failure)
        case .success(let running?):
            say(running.pidText)
            return .success(0)
        case .success(nil):
            return .failure(.refused(state.app, Array(" is not running".utf8)))
        }
    }
}
