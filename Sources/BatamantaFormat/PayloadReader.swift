/// The payload read the way docs/FORMAT.md requires, in three layers like Bakeware's
/// `sha_read` -> `unzstd_read` -> `cpio_extract_all`: compressed chunks are hashed, then
/// decoded by zstd, then parsed as tar. Every rule about the payload is checked here and
/// nowhere else, so `:inspect` refuses exactly what the dispenser refuses.
///
///     guard var payload = PayloadReader(for: located) else { ... cannot allocate ... }
///     for chunk in the payload's bytes, in order {
///         try payload.feed(chunk)
///         while let event = try payload.next() { ... }
///     }
///     try payload.finish()
///
/// Only fixed-size buffers are held, never the payload or a file's contents.
public struct PayloadReader: ~Copyable {
    private let contentHash: [UInt8]
    private let uncompressedSize: UInt64
    private let metadataBytes: [UInt8]

    private var hash = SHA256()
    private let decoder: ZstdDecoder
    private var tar = TarReader()
    private let output: UnsafeMutableRawBufferPointer

    private var started = false
    private var compressed = UnsafeRawBufferPointer(start: nil, count: 0)
    private var decoded = UnsafeRawBufferPointer(start: nil, count: 0)
    private var outputFull = false
    private var frameEnded = false
    private var produced: UInt64 = 0

    /// Nil when zstd cannot allocate its decoder.
    public init?(for located: Trailer.Located) {
        guard let decoder = ZstdDecoder() else { return nil }
        self.decoder = decoder
        contentHash = located.trailer.contentHash
        uncompressedSize = located.trailer.uncompressedSize
        metadataBytes = located.metadataBytes
        output = UnsafeMutableRawBufferPointer.allocate(byteCount: ZstdDecoder.recommendedOutputSize, alignment: 16)
    }

    deinit {
        output.deallocate()
    }

    /// Hands over the next compressed bytes, which must stay valid until `next` returns
    /// nil. The first chunk must hold the frame's first five bytes (any read of the
    /// payload's start does), so the frame is known to be checksummed before it is decoded.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer) throws(FormatError) {
        precondition(compressed.isEmpty, "feed before the previous chunk was drained")
        if !started {
            guard ZstdFrame.hasChecksummedHeader(chunk) else { throw .corrupt(.payloadNotChecksummed) }
            started = true
        }
        hash.update(chunk)
        compressed = chunk
    }

    /// The next tar event, or nil when the fed bytes are used up. A `.data` event's bytes
    /// are valid until the next call.
    public mutating func next() throws(FormatError) -> TarEvent? {
        while true {
            if let event = try tar.next(&decoded) { return event }
            if frameEnded {
                // zstd would start decoding whatever follows as a new frame.
                guard compressed.isEmpty else { throw .corrupt(.payloadAfterFrame) }
                return nil
            }
            guard !compressed.isEmpty || outputFull else { return nil }
            let step = try decoder.decompress(&compressed, into: output)
            frameEnded = step.frameEnded
            outputFull = step.produced == output.count
            produced += UInt64(step.produced)
            decoded = UnsafeRawBufferPointer(rebasing: output[..<step.produced])
        }
    }

    /// Checks what only the whole payload can show; call after the last chunk is drained.
    public mutating func finish() throws(FormatError) {
        hash.update(metadataBytes)
        guard hash.finalize() == contentHash else { throw .corrupt(.contentHash) }
        guard frameEnded else { throw .corrupt(.payloadTruncated) }
        guard produced == uncompressedSize else { throw .corrupt(.uncompressedSize) }
        try tar.finish()
    }
}
