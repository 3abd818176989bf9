import Glibc

/// Sends `{:progress, ...}` messages for the request being served, at most about ten a
/// second so a fast pack or download does not flood the port. Notices (a retry, say)
/// always go out: they replace what would otherwise be a line on the helper's stderr,
/// which Mix could neither hide under `--quiet` nor place between its own lines.
final class Progress {
    private let clock: MonotonicClock
    private let send: (String, UInt64, UInt64) -> Void
    private let sendNotice: (String, UInt64, UInt64, String) -> Void
    private var lastSent: UInt64?
    private var lastReport: (done: UInt64, total: UInt64)?
    private static let interval: UInt64 = 100_000_000

    init(
        clock: MonotonicClock = .system,
        send: @escaping (String, UInt64, UInt64) -> Void,
        notice: @escaping (String, UInt64, UInt64, String) -> Void = { _, _, _, _ in }
    ) {
        self.clock = clock
        self.send = send
        self.sendNotice = notice
    }

    /// Reports an event of `stage` with a human-readable `message`, unthrottled.
    func notice(stage: String, done: UInt64, total: UInt64, message: String) {
        sendNotice(stage, done, total, message)
    }

    /// Reports `done` of `total` (0 when unknown). The final report always goes out,
    /// once; repeats of the previous report never do.
    func report(stage: String, done: UInt64, total: UInt64) {
        if let lastReport, lastReport.done == done, lastReport.total == total { return }
        let now = clock.now()
        let isFinal = total > 0 && done >= total
        if let lastSent, now - lastSent < Progress.interval, !isFinal { return }
        lastSent = now
        lastReport = (done, total)
        send(stage, done, total)
    }
}
