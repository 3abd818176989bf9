import CLibc

/// `stop`, `status` and `pid`: they read the pid file and never extract anything.
enum Control {
    static let notRunningStatus: Int32 = 3

    static func stop(_ state: StateDirectory, timeout: Int) throws(DaemonFailure) -> Int32 {
        let lock = try state.lock()
        defer { lock.close() }
        guard let running = try PidFile.running(state) else {
            state.remove(state.pidName)
            throw .refused(state.app, Array(" is not running".utf8))
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
        // Once its main thread is gone the VM no longer counts as running, but its other
        // threads may still hold the extraction's lock for a few ms: `stop` returns only
        // when nothing of it is left, so an `uninstall` or a new start right after finds
        // the extraction free.
        _ = ProcessInfo.waitUntil(timeout: 5_000, interval: 5) { Platform.hasExited(running.pid) }
        state.remove(state.pidName)
        say(how, state.app, Array(" (pid ".utf8), running.pidText, Array(")".utf8))
        return 0
    }

    /// LSB: 0 when running, 3 when not.
    static func status(_ state: StateDirectory) throws(DaemonFailure) -> Int32 {
        guard let running = try PidFile.running(state) else {
            say(state.app, Array(" is not running".utf8))
            return notRunningStatus
        }
        say(state.app, Array(" is running (pid ".utf8), running.pidText, Array(")".utf8))
        return 0
    }

    static func pid(_ state: StateDirectory) throws(DaemonFailure) -> Int32 {
        guard let running = try PidFile.running(state) else { throw .refused(state.app, Array(" is not running".utf8)) }
        say(running.pidText)
        return 0
    }
}
