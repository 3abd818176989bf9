/// The payload read the way docs/FORMAT.md requires, in three layers like Bakeware's
/// `sha_read` -> `unzstd_read` -> `cpio_extract_all`: compressed chunks are hashed, then
/// decoded by zstd, then parsed as tar. Every rule about the payload is checked here and
/// nowhere else, so `:inspect` refuses exactly what the dispenser refuses.
///
/// The compressed bytes are one or more zstd frames, each with its content checksum, one
/// after the other: their contents, concatenated, are the tar stream.
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

    private var compressed = UnsafeRawBufferPointer(start: nil, count: 0)
    private var decoded = UnsafeRawBufferPointer(start: nil, count: 0)
    private var outputFull = false
    /// Between frames (and before the first): the next bytes must start a checksummed
    /// frame, whose first bytes may come in more than one chunk, so they wait in `header`.
    private var atFrameStart = true
    private let header = UnsafeMutableRawBufferPointer.allocate(byteCount: ZstdFrame.headerPrefixSize, alignment: 1)
    private var headerCount = 0
    private var frameEnded = false
    private var frames = 0
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
        header.deallocate()
    }

    /// Hands over the next compressed bytes, which must stay valid until `next` returns
    /// nil.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer) throws(FormatError) {
        precondition(compressed.isEmpty, "feed before the previous chunk was drained")
        hash.update(chunk)
        compressed = chunk
    }

    /// The next tar event, or nil when the fed bytes are used up. A `.data` event's bytes
    /// are valid until the next call.
    public mutating func next() throws(FormatError) -> TarEvent? {
        while true {
            if let event = try tar.next(&decoded) { return event }
            if atFrameStart {
                guard try startFrame() else { return nil }
                continue
            }
            // zstd reports a frame's end only once all of it is flushed.
            if frameEnded {
                atFrameStart = true
                continue
            }
            guard !compressed.isEmpty || outputFull else { return nil }
            let step = try decoder.decompress(&compressed, into: output)
            frameEnded = step.frameEnded
            outputFull = step.produced == output.count
            produced += UInt64(step.produced)
            decoded = UnsafeRawBufferPointer(rebasing: output[..<step.produced])
        }
    }

    /// Checks the next frame's header once its first bytes are in, and hands them to the
    /// decoder; false while they are not all in yet.
    private mutating func startFrame() throws(FormatError) -> Bool {
        let count = min(ZstdFrame.headerPrefixSize - headerCount, compressed.count)
        header[headerCount..<(headerCount + count)].copyBytes(from: compressed[compressed.startIndex..<(compressed.startIndex + count)])
        headerCount += count
        compressed = UnsafeRawBufferPointer(rebasing: compressed.dropFirst(count))
        guard headerCount == ZstdFrame.headerPrefixSize else { return false }
        guard ZstdFrame.hasChecksummedHeader(header) else {
            // Bytes after a complete frame that start no frame of ours are not a payload
            // zstd would decode on its own either: they are trailing garbage.
            throw .corrupt(frames == 0 ? .payloadNotChecksummed : .payloadAfterFrame)
        }
        var rest = UnsafeRawBufferPointer(header)
        while !rest.isEmpty {
            let step = try decoder.decompress(&rest, into: output)
            precondition(step.produced == 0 && !step.frameEnded, "a frame header decoded to data")
        }
        headerCount = 0
        atFrameStart = false
        frameEnded = false
        outputFull = false
        frames += 1
        return true
    }

    /// Checks what only the whole payload can show; call after the last chunk is drained.
    public mutating func finish() throws(FormatError) {
        hash.update(metadataBytes)
        guard hash.finalize() == contentHash else { throw .corrupt(.contentHash) }
        guard headerCount == 0 || frames == 0 else { throw .corrupt(.payloadAfterFrame) }
        guard frames > 0, atFrameStart || frameEnded else { throw .corrupt(.payloadTruncated) }
        guard produced == uncompressedSize else { throw .corrupt(.uncompressedSize) }
        try tar.finish()
    }
}
