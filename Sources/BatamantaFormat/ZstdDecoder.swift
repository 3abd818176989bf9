import CZstd

/// libzstd's streaming decoder. It verifies the frame's content checksum itself, so a
/// damaged frame fails here rather than yielding wrong bytes.
public struct ZstdDecoder: ~Copyable {
    private let stream: OpaquePointer

    public init?() {
        guard let stream = ZSTD_createDStream() else { return nil }
        guard ZSTD_isError(ZSTD_initDStream(stream)) == 0 else {
            ZSTD_freeDStream(stream)
            return nil
        }
        self.stream = stream
    }

    deinit {
        ZSTD_freeDStream(stream)
    }

    public static var recommendedOutputSize: Int { ZSTD_DStreamOutSize() }

    /// Decodes from the front of `input` into `output`. Returns the number of bytes
    /// produced and whether the frame is complete (its checksum verified).
    public func decompress(
        _ input: inout UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws(FormatError) -> (produced: Int, frameEnded: Bool) {
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var destination = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let result = ZSTD_decompressStream(stream, &destination, &source)
        guard ZSTD_isError(result) == 0 else { throw .corrupt(.payloadUndecodable) }
        input = UnsafeRawBufferPointer(rebasing: input[(input.startIndex + source.pos)...])
        return (destination.pos, result == 0)
    }
}
