import CLibc

/// The consumer's side of a relay (CLibc/relay.c): its producer's buffers, in order. The
/// producer runs on a thread of its own when one can be started; otherwise each `next`
/// first has it fill one buffer on the consumer's thread.
struct RelayConsumer {
    /// Fills one buffer of the relay; false once the producer is done.
    typealias Step = @convention(c) (UnsafeMutableRawPointer?) -> Bool

    private let relay: OpaquePointer
    private let producer: UnsafeMutableRawPointer
    private let step: Step
    private let threaded: Bool
    private var holding = false

    init(_ relay: OpaquePointer, producer: UnsafeMutableRawPointer, step: Step) {
        self.relay = relay
        self.producer = producer
        self.step = step
        threaded = bm_relay_start(relay, step, producer) == 0
    }

    /// The next buffer, valid until the next call; nil once the producer has closed the
    /// relay and every buffer was taken.
    mutating func next() -> UnsafeRawBufferPointer? {
        if holding {
            bm_relay_release(relay)
            holding = false
        }
        if !threaded { _ = step(producer) }
        var length = 0
        guard let slot = bm_relay_next(relay, &length) else { return nil }
        holding = true
        return UnsafeRawBufferPointer(start: slot, count: length)
    }
}
