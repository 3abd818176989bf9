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
    func wait(milliseconds: Int32) -> Bool {
        guard let descriptor = watchedDescriptor else {
            var request = timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int(milliseconds % 1000) * 1_000_000)
            var remaining = timespec()
            while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
            return false
        }
        var entry = pollfd(fd: descriptor, events: 0, revents: 0)
        let deadline = clock.now() + UInt64(milliseconds) * 1_000_000
        while true {
            let now = clock.now()
            let left = now >= deadline ? 0 : Int32((deadline - now) / 1_000_000)
            let ready = poll(&entry, 1, left)
            if ready > 0 { return entry.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 }
            if ready == 0 || errno != EINTR { return false }
        }
    }

    var isRequested: Bool { watchedDescriptor != nil && wait(milliseconds: 0) }
}
