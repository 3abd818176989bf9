import CLibc

/// Signals, pipes and the clock, for starting and waiting on processes; thin over the
/// system calls.
enum ProcessInfo {
    static func signal(_ pid: Int32, _ signal: Int32) {
        _ = kill(pid, signal)
    }

    /// A pipe whose ends are close-on-exec: (read end, write end).
    static func pipe() throws(DaemonFailure) -> (FileDescriptor, FileDescriptor) {
        var ends: [Int32] = [-1, -1]
        try nothingOrErrno { ends.withUnsafeMutableBufferPointer { Platform.makePipe($0.baseAddress!) } }.orThrow {
            DaemonFailure.system($0, path: [], "cannot create a pipe")
        }
        return (FileDescriptor(rawValue: ends[0]), FileDescriptor(rawValue: ends[1]))
    }

    static func milliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    static func sleep(milliseconds: Int) {
        var duration = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        _ = valueOrErrno {
            defer { duration = remaining }
            return nanosleep(&duration, &remaining)
        }
    }

    /// Polls `done` every `interval` ms until it holds or `timeout` ms have passed.
    static func waitUntil(timeout: Int, interval: Int = 50, _ done: () -> Bool) -> Bool {
        let deadline = milliseconds() + Int64(timeout)
        while true {
            if done() { return true }
            if milliseconds() >= deadline { return false }
            sleep(milliseconds: interval)
        }
    }
}
