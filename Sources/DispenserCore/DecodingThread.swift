import CLibc

/// The payload's reading, SHA-256 and zstd (PayloadDecoder) on a thread of its own, a few
/// buffers ahead of the tar reader and the writes on the caller's: a first start keeps
/// two cores busy instead of decoding and writing in turn. Without a thread
/// (pthread_create failed) the caller decodes each buffer when it asks for it: slower,
/// the same bytes and the same checks.
///
/// A failure of the decoding side is thrown only once every buffer decoded before it has
/// been handed over, so the caller meets errors in the payload's order, as PayloadReader's
/// callers do.
struct DecodingThread: ~Copyable {
    static let slots: UInt32 = 4

    private let relay: OpaquePointer
    private let producer: UnsafeMutablePointer<Producer>
    private let threaded: Bool
    private var holding = false

    init(_ image: SelfImage) throws(Failure) {
        guard let decoder = PayloadDecoder(for: image.located) else {
            throw Failure(.osError, path: image.executablePath, "cannot allocate zstd decoder")
        }
        guard let relay = bm_relay_create(Self.slots, Producer.slotSize) else {
            throw Failure(.osError, path: image.executablePath, "cannot allocate decoding buffers")
        }
        self.relay = relay
        producer = UnsafeMutablePointer<Producer>.allocate(capacity: 1)
        producer.initialize(to: Producer(image, decoder: decoder, relay: relay))
        threaded = bm_relay_start(relay, { context in
            let producer = context!.assumingMemoryBound(to: Producer.self)
            while producer.pointee.step() {}
        }, producer) == 0
    }

    deinit {
        bm_relay_finish(relay)
        producer.deinitialize(count: 1)
        producer.deallocate()
    }

    /// The next decoded bytes, valid until the next call; nil once the payload is all
    /// decoded and its whole-payload checks have passed.
    mutating func next() throws(Failure) -> UnsafeRawBufferPointer? {
        if holding {
            bm_relay_release(relay)
            holding = false
        }
        if !threaded { _ = producer.pointee.step() }
        var length = 0
        guard let slot = bm_relay_next(relay, &length) else {
            // The producer wrote its failure before it closed the relay, under its lock.
            if let failure = producer.pointee.failure { throw failure }
            return nil
        }
        holding = true
        return UnsafeRawBufferPointer(start: slot, count: length)
    }
}

/// The decoding side. Once started, only the producer's thread touches it, until the
/// relay is closed.
private struct Producer: ~Copyable {
    static let slotSize = PayloadDecoder.recommendedOutputSize
    static let readSize = 1 << 18

    private let file: FileDescriptor
    private let path: [UInt8]
    private var offset: UInt64
    private let end: UInt64
    private var decoder: PayloadDecoder
    private let relay: OpaquePointer
    private let input = UnsafeMutableRawBufferPointer.allocate(byteCount: readSize, alignment: 16)
    private var finished = false
    private(set) var failure: Failure?

    init(_ image: SelfImage, decoder: consuming PayloadDecoder, relay: OpaquePointer) {
        file = image.file
        path = image.executablePath
        offset = image.trailer.payloadOffset
        end = offset + image.trailer.payloadLength
        self.decoder = decoder
        self.relay = relay
    }

    deinit {
        input.deallocate()
    }

    /// Fills and hands over one buffer; false once the producer is done (the payload
    /// decoded and checked, a failure recorded, or the consumer gone).
    mutating func step() -> Bool {
        guard let slot = bm_relay_acquire(relay) else { return false }
        do throws(Failure) {
            let count = try fill(UnsafeMutableRawBufferPointer(start: slot, count: Self.slotSize))
            if count > 0 {
                bm_relay_publish(relay, count)
                return true
            }
        } catch {
            failure = error
        }
        bm_relay_close(relay)
        return false
    }

    /// Decodes into `output` as far as the payload goes; 0 once all of it is decoded and
    /// checked.
    private mutating func fill(_ output: UnsafeMutableRawBufferPointer) throws(Failure) -> Int {
        var filled = 0
        while filled < output.count {
            filled += try Failure.checking(path) { () throws(FormatError) in
                try decoder.decode(into: UnsafeMutableRawBufferPointer(rebasing: output[filled...]))
            }
            if filled == output.count { break }
            if offset == end {
                if !finished {
                    try Failure.checking(path) { () throws(FormatError) in try decoder.finish() }
                    finished = true
                }
                break
            }
            let chunk = UnsafeMutableRawBufferPointer(rebasing: input[0..<Int(min(UInt64(Self.readSize), end - offset))])
            let count = try file.read(fromAbsoluteOffset: offset, into: chunk).orThrow {
                Failure(errno: $0, path: path, "cannot read payload", otherwise: .ioError)
            }
            offset += UInt64(count)
            try Failure.checking(path) { () throws(FormatError) in
                if count == 0 { throw .corrupt(.payloadTruncated) }
                try decoder.feed(UnsafeRawBufferPointer(rebasing: input[0..<count]))
            }
        }
        return filled
    }
}
