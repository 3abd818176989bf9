import Glibc

/// Sends `{:progress, ...}` messages for the request being served, at most about ten a
/// second so a fast pack or download does not flood the port.
final class Progress {
    private let send: (String, UInt64, UInt64) -> Void
    private var lastSent: UInt64?
    private var lastReport: (done: UInt64, total: UInt64)?
    private static let interval: UInt64 = 100_000_000

    init(send: @escaping (String, UInt64, UInt64) -> Void) {
        self.send = send
    }

    /// Reports `done` of `total` (0 when unknown). The final report always goes out,
    /// once; repeats of the previous report never do.
    func report(stage: String, done: UInt64, total: UInt64) {
        if let lastReport, lastReport.done == done, lastReport.total == total { return }
        let now = Progress.monotonicNanoseconds()
        let isFinal = total > 0 && done >= total
        if let lastSent, now - lastSent < Progress.interval, !isFinal { return }
        lastSent = now
        lastReport = (done, total)
        send(stage, done, total)
    }

    static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
