/// The payload read the way docs/FORMAT.md requires, in three layers like Bakeware's
/// `sha_read` -> `unzstd_read` -> `cpio_extract_all`: compressed chunks are hashed
/// (PayloadHash), then decoded by zstd (PayloadDecoder), then parsed as tar (TarReader).
/// Every rule about the payload is checked in those three and nowhere else, so `:inspect`
/// refuses exactly what the dispenser refuses.
///
///     guard var payload = PayloadReader(for: located) else { ... cannot allocate ... }
///     for chunk in the payload's bytes, in order {
///         payload.feed(chunk)
///         while let event = try payload.next() { ... }
///     }
///     try payload.finish()
///
/// Only fixed-size buffers are held, never the payload or a file's contents.
public struct PayloadReader: ~Copyable {
    private var hash: PayloadHash
    private var decoder: PayloadDecoder
    private var tar = TarReader()
    private let output: UnsafeMutableRawBufferPointer
    private var decoded = UnsafeRawBufferPointer(start: nil, count: 0)

    /// Nil when zstd cannot allocate its decoder.
    public init?(for located: Trailer.Located) {
        guard let decoder = PayloadDecoder(for: located) else { return nil }
        self.decoder = decoder
        hash = PayloadHash(for: located)
        output = UnsafeMutableRawBufferPointer.allocate(byteCount: PayloadDecoder.recommendedOutputSize, alignment: 16)
    }

    deinit {
        output.deallocate()
    }

    /// Hands over the next compressed bytes, which must stay valid until `next` returns
    /// nil.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer) {
        hash.update(chunk)
        decoder.feed(chunk)
    }

    /// The next tar event, or nil when the fed bytes are used up. A `.data` event's bytes
    /// are valid until the next call.
    public mutating func next() throws(FormatError) -> TarEvent? {
        while true {
            if let event = try tar.next(&decoded) { return event }
            let count = try decoder.decode(into: output)
            guard count > 0 else { return nil }
            decoded = UnsafeRawBufferPointer(rebasing: output[..<count])
        }
    }

    /// Checks what only the whole payload can show; call after the last chunk is drained.
    public mutating func finish() throws(FormatError) {
        try hash.finish()
        try decoder.finish()
        try tar.finish()
    }
}
