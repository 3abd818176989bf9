/// The payload's middle layer: its compressed bytes are one or more zstd frames, each
/// with its content checksum, one after the other, and their contents, concatenated, are
/// the tar stream. Every rule about the frames is checked here and nowhere else;
/// `PayloadReader` puts `PayloadHash` below and the tar layer on top, and the dispenser
/// runs each layer on a thread of its own (DecodingPipeline).
///
///     guard var decoder = PayloadDecoder(for: located) else { ... cannot allocate ... }
///     for chunk in the payload's bytes, in order {
///         decoder.feed(chunk)
///         repeat {
///             count = try decoder.decode(into: output)
///             ... output[..<count] ...
///         } while count == output.count
///     }
///     try decoder.finish()
public struct PayloadDecoder: ~Copyable {
    private let uncompressedSize: UInt64
    private let decoder: ZstdDecoder

    private var compressed = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The last call filled its output: zstd may hold more without new input.
    private var outputFull = false
    /// Between frames (and before the first): the next bytes must start a checksummed
    /// frame, whose first bytes may come in more than one chunk, so they wait in `header`.
    private var atFrameStart = true
    private let header = UnsafeMutableRawBufferPointer.allocate(byteCount: ZstdFrame.headerPrefixSize, alignment: 1)
    private var headerCount = 0
    private var frameEnded = false
    private var frames = 0
    private var produced: UInt64 = 0

    /// What zstd writes best into: one block.
    public static var recommendedOutputSize: Int { ZstdDecoder.recommendedOutputSize }

    /// Nil when zstd cannot allocate its decoder.
    public init?(for located: Trailer.Located) {
        guard let decoder = ZstdDecoder() else { return nil }
        self.decoder = decoder
        uncompressedSize = located.trailer.uncompressedSize
    }

    deinit {
        header.deallocate()
    }

    /// Hands over the next compressed bytes, which must stay valid until `decode` has
    /// used them up.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer) {
        precondition(compressed.isEmpty, "feed before the previous chunk was used up")
        compressed = chunk
    }

    /// Decodes into the front of `output` and returns how many bytes it wrote. Fewer than
    /// `output.count` means the fed bytes are used up.
    public mutating func decode(into output: UnsafeMutableRawBufferPointer) throws(FormatError) -> Int {
        var filled = 0
        while filled < output.count {
            if atFrameStart {
                guard try startFrame(into: output) else { break }
                continue
            }
            // zstd reports a frame's end only once all of it is flushed.
            if frameEnded {
                atFrameStart = true
                continue
            }
            guard !compressed.isEmpty || outputFull else { break }
            let space = UnsafeMutableRawBufferPointer(rebasing: output[filled...])
            let step = try decoder.decompress(&compressed, into: space)
            frameEnded = step.frameEnded
            outputFull = step.produced == space.count
            filled += step.produced
        }
        produced += UInt64(filled)
        return filled
    }

    /// Checks the next frame's header once its first bytes are in, and hands them to the
    /// decoder; false while they are not all in yet.
    private mutating func startFrame(into output: UnsafeMutableRawBufferPointer) throws(FormatError) -> Bool {
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

    /// Checks what only all the frames can show; call once the last chunk is used up.
    public mutating func finish() throws(FormatError) {
        guard headerCount == 0 || frames == 0 else { throw .corrupt(.payloadAfterFrame) }
        guard frames > 0, atFrameStart || frameEnded else { throw .corrupt(.payloadTruncated) }
        guard produced == uncompressedSize else { throw .corrupt(.uncompressedSize) }
    }
}
