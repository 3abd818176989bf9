/// What a command gets besides its arguments: where its progress goes, how it learns that
/// nobody waits for the reply any more, and the clock its deadlines use. One per request,
/// made by the server, so commands share no global state.
struct RequestContext {
    var progress: Progress
    var cancellation: Cancellation
    var clock: MonotonicClock

    init(progress: Progress, cancellation: Cancellation = .never, clock: MonotonicClock = .system) {
        self.progress = progress
        self.cancellation = cancellation
        self.clock = clock
    }
}
