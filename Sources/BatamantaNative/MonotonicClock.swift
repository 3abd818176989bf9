import Glibc

/// Nanoseconds on CLOCK_MONOTONIC, for deadlines and throttling; never for dates. A value
/// rather than a global function so a request's parts agree on one clock.
struct MonotonicClock: Sendable {
    let now: @Sendable () -> UInt64

    static let system = MonotonicClock {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
