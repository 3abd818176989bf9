import CZstd

/// Streams one zstd frame back into bytes. zstd checks the frame's content checksum
/// itself, so a damaged payload fails here rather than yielding wrong bytes.
final class ZstdDecompressor {
    private let context: OpaquePointer
    private var output: [UInt8]
    private let name: String
    private(set) var isFrameComplete = false

    init(name: String) throws(CommandError) {
        guard let context = ZSTD_createDCtx() else { throw CommandError(.ioError, "zstd could not allocate a decompressor for \(name)") }
        self.context = context
        self.name = name
        output = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
    }

    deinit {
        ZSTD_freeDCtx(context)
    }

    /// Feeds compressed `bytes`, calling `consume` with each decompressed chunk.
    func decompress(
        _ bytes: UnsafeRawBufferPointer, _ consume: (UnsafeRawBufferPointer) throws(CommandError) -> Void
    ) throws(CommandError) {
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        let capacity = output.count
        while true {
            // Checked before every call: once a frame has ended, zstd would start decoding
            // whatever follows as a new frame, even bytes handed in by a later call.
            if isFrameComplete {
                guard input.pos == input.size else { throw CommandError(.corrupt, "payload of \(name) has data after its zstd frame") }
                return
            }
            let (result, produced) = output.withUnsafeMutableBytes { buffer -> (Int, Int) in
                var out = ZSTD_outBuffer(dst: buffer.baseAddress, size: capacity, pos: 0)
                let result = ZSTD_decompressStream(context, &out, &input)
                return (result, out.pos)
            }
            guard ZSTD_isError(result) == 0 else {
                throw CommandError(.corrupt, "payload of \(name) does not decompress: \(String(cString: ZSTD_getErrorName(result)))")
            }
            if result == 0 { isFrameComplete = true }
            if produced > 0 {
                try output.withBytes { (buffer) throws(CommandError) in try consume(UnsafeRawBufferPointer(rebasing: buffer[..<produced])) }
            }
            if produced == 0 && input.pos == input.size && !isFrameComplete { return }
        }
    }
}
