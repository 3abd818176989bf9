import CZlib

/// Streams a gzip file back into bytes. zlib checks each member's CRC-32 and length
/// itself, so a damaged archive fails here rather than yielding wrong bytes. Members may
/// follow one another (pigz and `cat a.gz b.gz` make such files), as gunzip allows.
final class GzipDecompressor {
    private var stream = z_stream()
    private var output: [UInt8]
    private let name: String
    /// True between members: the input so far ends exactly where a member ended.
    private(set) var isMemberComplete = false

    init(name: String) throws(CommandError) {
        self.name = name
        output = [UInt8](repeating: 0, count: 1 << 17)
        guard czlib_inflate_init_gzip(&stream) == Z_OK else {
            throw CommandError(.ioError, "zlib could not allocate a decompressor for \(name)")
        }
    }

    deinit {
        inflateEnd(&stream)
    }

    /// Feeds compressed `bytes`, calling `consume` with each decompressed chunk.
    func decompress(
        _ bytes: UnsafeRawBufferPointer, _ consume: (UnsafeRawBufferPointer) throws(CommandError) -> Void
    ) throws(CommandError) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(bytes.count)
        defer {
            stream.next_in = nil
            stream.avail_in = 0
        }
        let capacity = output.count
        while stream.avail_in > 0 {
            if isMemberComplete {
                guard inflateReset(&stream) == Z_OK else { throw corrupt("cannot start its next gzip member") }
                isMemberComplete = false
            }
            let (result, produced) = output.withUnsafeMutableBytes { buffer -> (Int32, Int) in
                stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(capacity)
                let result = inflate(&stream, Z_NO_FLUSH)
                return (result, capacity - Int(stream.avail_out))
            }
            switch result {
            case Z_OK, Z_BUF_ERROR: break
            case Z_STREAM_END: isMemberComplete = true
            case Z_MEM_ERROR: throw CommandError(.ioError, "zlib ran out of memory decompressing \(name)")
            default:
                let reason = stream.msg.map { String(cString: $0) } ?? "error \(result)"
                throw corrupt("is not valid gzip data: \(reason)")
            }
            if produced > 0 {
                try output.withBytes { (buffer) throws(CommandError) in try consume(UnsafeRawBufferPointer(rebasing: buffer[..<produced])) }
            } else if result == Z_BUF_ERROR {
                return
            }
        }
    }

    private func corrupt(_ what: String) -> CommandError {
        CommandError(.corrupt, "\(name) \(what)")
    }
}
