import CLibc

/// The payload's first two layers, each on a thread of its own and a few buffers ahead of
/// the next: reading with SHA-256 (PayloadHash), then zstd (PayloadDecoder), then the tar
/// reader and the writes on the caller's thread. A first start keeps both cores busy
/// instead of hashing, decoding and writing in turn, and zstd decodes the very buffers
/// that were hashed. Where a thread cannot be started, its consumer runs that layer as it
/// asks (RelayConsumer): slower, the same bytes and the same checks.
///
/// A failure is thrown only once every buffer before it has been handed over, so the
/// caller meets errors in the payload's order, as PayloadReader's callers do.
struct DecodingPipeline: ~Copyable {
    static let slots: UInt32 = 4

    private let readRelay: OpaquePointer
    private let decodeRelay: OpaquePointer
    private let reading: UnsafeMutablePointer<Reading>
    private let decoding: UnsafeMutablePointer<Decoding>
    private var output: RelayConsumer

    init(_ image: SelfImage) throws(Failure) {
        guard let decoder = PayloadDecoder(for: image.located) else {
            throw Failure(.osError, path: image.executablePath, "cannot allocate zstd decoder")
        }
        guard let readRelay = bm_relay_create(Self.slots, Reading.slotSize) else {
            throw Failure(.osError, path: image.executablePath, "cannot allocate reading buffers")
        }
        guard let decodeRelay = bm_relay_create(Self.slots, Decoding.slotSize) else {
            bm_relay_finish(readRelay)
            throw Failure(.osError, path: image.executablePath, "cannot allocate decoding buffers")
        }
        self.readRelay = readRelay
        self.decodeRelay = decodeRelay
        reading = UnsafeMutablePointer<Reading>.allocate(capacity: 1)
        reading.initialize(to: Reading(image, relay: readRelay))
        let input = RelayConsumer(readRelay, producer: reading) { producer in
            producer!.assumingMemoryBound(to: Reading.self).pointee.step()
        }
        decoding = UnsafeMutablePointer<Decoding>.allocate(capacity: 1)
        decoding.initialize(to: Decoding(image.executablePath, decoder: decoder, input: input, reading: reading, relay: decodeRelay))
        output = RelayConsumer(decodeRelay, producer: decoding) { producer in
            producer!.assumingMemoryBound(to: Decoding.self).pointee.step()
        }
    }

    deinit {
        // The decoding thread takes from the reading relay, so it is stopped first.
        bm_relay_finish(decodeRelay)
        bm_relay_finish(readRelay)
        decoding.deinitialize(count: 1)
        decoding.deallocate()
        reading.deinitialize(count: 1)
        reading.deallocate()
    }

    /// The next decoded bytes, valid until the next call; nil once the payload is all
    /// decoded and its whole-payload checks have passed.
    mutating func next() throws(Failure) -> UnsafeRawBufferPointer? {
        if let bytes = output.next() { return bytes }
        // A producer writes its failure before it closes its relay, under the relay's lock.
        if let failure = decoding.pointee.failure { throw failure }
        return nil
    }
}

/// Reads the payload from our own file and hashes it. Once started, only its thread
/// touches it, until the relay is closed.
private struct Reading: ~Copyable {
    static let slotSize = 1 << 18

    private let file: FileDescriptor
    private let path: [UInt8]
    private var offset: UInt64
    private let end: UInt64
    private var hash: PayloadHash
    private let relay: OpaquePointer
    private(set) var failure: Failure?

    init(_ image: SelfImage, relay: OpaquePointer) {
        file = image.file
        path = image.executablePath
        offset = image.trailer.payloadOffset
        end = offset + image.trailer.payloadLength
        hash = PayloadHash(for: image.located)
        self.relay = relay
    }

    /// Reads and hands over one buffer; false once the reading is done (the payload read
    /// and its hash checked, a failure recorded, or the consumer gone).
    mutating func step() -> Bool {
        guard let slot = bm_relay_acquire(relay) else { return false }
        do throws(Failure) {
            if offset < end {
                let buffer = UnsafeMutableRawBufferPointer(start: slot, count: Int(min(UInt64(Self.slotSize), end - offset)))
                let count = try file.read(fromAbsoluteOffset: offset, into: buffer).orThrow {
                    Failure(errno: $0, path: path, "cannot read payload", otherwise: .ioError)
                }
                guard count > 0 else { throw Failure(.corrupt(.payloadTruncated), path: path) }
                hash.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                offset += UInt64(count)
                bm_relay_publish(relay, count)
                return true
            }
            try Failure.checking(path) { () throws(FormatError) in try hash.finish() }
        } catch {
            failure = error
        }
        bm_relay_close(relay)
        return false
    }
}

/// Decodes what Reading hands over. Once started, only its thread touches it, until the
/// relay is closed.
private struct Decoding: ~Copyable {
    static let slotSize = PayloadDecoder.recommendedOutputSize

    private let path: [UInt8]
    private var decoder: PayloadDecoder
    private var input: RelayConsumer
    private let reading: UnsafeMutablePointer<Reading>
    private let relay: OpaquePointer
    private(set) var failure: Failure?

    init(_ path: [UInt8], decoder: consuming PayloadDecoder, input: RelayConsumer, reading: UnsafeMutablePointer<Reading>, relay: OpaquePointer) {
        self.path = path
        self.decoder = decoder
        self.input = input
        self.reading = reading
        self.relay = relay
    }

    /// Fills and hands over one buffer; false once the decoding is done (the payload
    /// decoded and checked, a failure recorded, or the consumer gone).
    mutating func step() -> Bool {
        guard let slot = bm_relay_acquire(relay) else { return false }
        do throws(Failure) {
            let (count, done) = try fill(UnsafeMutableRawBufferPointer(start: slot, count: Self.slotSize))
            if count > 0 { bm_relay_publish(relay, count) }
            if !done { return true }
        } catch {
            failure = error
        }
        bm_relay_close(relay)
        return false
    }

    /// Decodes into `output` as far as the payload goes; `done` once all of it is decoded
    /// and checked.
    private mutating func fill(_ output: UnsafeMutableRawBufferPointer) throws(Failure) -> (count: Int, done: Bool) {
        var filled = 0
        while filled < output.count {
            filled += try Failure.checking(path) { () throws(FormatError) in
                try decoder.decode(into: UnsafeMutableRawBufferPointer(rebasing: output[filled...]))
            }
            if filled == output.count { break }
            // The fed bytes are used up, so their buffer may go back to Reading.
            guard let chunk = input.next() else {
                if let failure = reading.pointee.failure { throw failure }
                try Failure.checking(path) { () throws(FormatError) in try decoder.finish() }
                return (filled, true)
            }
            decoder.feed(chunk)
        }
        return (filled, false)
    }
}
