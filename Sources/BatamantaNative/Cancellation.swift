import Glibc

/// Notices that the Mix side went away while a command is still busy (waiting for a lock,
/// downloading, backing off), so the helper stops instead of finishing work for nobody
/// and holding locks meanwhile. Only the serving helper watches its stdin; library callers
/// such as the unit tests have no port to lose, and get `.never`.
struct Cancellation {
    /// The port's input, whose hangup means nobody is waiting for the reply.
    let watchedDescriptor: Int32?
    let clock: MonotonicClock

    static let never = Cancellation(watchedDescriptor: nil, clock: .system)

    /// Waits up to `milliseconds` and returns true as soon as the port's input hangs up.
    /// With nothing watched, poll just sleeps.
    func wait(milliseconds: Int32) -> Bool {
        var entries = watchedDescriptor.map { [pollfd(fd: $0, events: 0, revents: 0)] } ?? []
        let deadline = clock.now() + UInt64(milliseconds) * 1_000_000
        let ready = retryingOnInterrupt { () -> Int32 in
            let now = clock.now()
            return poll(&entries, nfds_t(entries.count), now >= deadline ? 0 : Int32((deadline - now) / 1_000_000))
        }
        guard case .success(let count) = ready, count > 0 else { return false }
        return entries[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0
    }

    var isRequested: Bool { watchedDescriptor != nil && wait(milliseconds: 0) }
}
