import CZstd

// libFuzzer harness: arbitrary bytes through TarReader. The first byte picks the chunk
// size (so chunk-boundary handling is exercised) and whether header checksums are
// repaired first (so mutations get past the checksum into the path and pax logic).
// The same bytes, zstd-compressed under a matching trailer, must get the same verdict
// and entries from PayloadReader.

@_cdecl("LLVMFuzzerTestOneInput")
public func tarReaderOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let chunk = Int(data[0] >> 1) * 7 + 1
    var body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if data[0] & 1 == 1 { repairChecksums(&body) }
    var reader = TarReader()
    var admitted: [[UInt8]] = []
    let failure = body.withUnsafeBytes { raw -> FormatError? in
        var offset = 0
        do throws(FormatError) {
            while offset < raw.count {
                let end = min(raw.count, offset + chunk)
                var input = UnsafeRawBufferPointer(rebasing: raw[offset..<end])
                while let event = try reader.next(&input) {
                    if case .entryStart(let header) = event { admitted.append(header.path) }
                }
                precondition(input.isEmpty, "input left unconsumed")
                offset = end
            }
            try reader.finish()
        } catch {
            return error
        }
        return nil
    }
    let payload = readPayload(zstdFrame(body), uncompressedSize: UInt64(body.count), chunk: chunk)
    precondition(payload.failure == failure && payload.admitted == admitted, "PayloadReader disagrees with TarReader")
    for path in admitted {
        precondition(!path.isEmpty && path.first != UInt8(ascii: "/"), "unsafe path admitted")
        precondition(!path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).contains {
            $0.isEmpty || $0.elementsEqual("..".utf8) || $0.elementsEqual(".".utf8)
        }, "bad component admitted")
    }
    _ = failure?.summary
    return 0
}

private func repairChecksums(_ bytes: inout [UInt8]) {
    var block = 0
    while block + TarEntryHeader.blockSize <= bytes.count {
        if bytes[(block + Ustar.magic.lowerBound)...].starts(with: "ustar".utf8) {
            for i in Ustar.checksum { bytes[block + i] = UInt8(ascii: " ") }
            var sum = bytes[block..<(block + TarEntryHeader.blockSize)].reduce(0) { $0 + Int($1) }
            for i in stride(from: Ustar.checksum.lowerBound + 5, through: Ustar.checksum.lowerBound, by: -1) {
                bytes[block + i] = UInt8(ascii: "0") + UInt8(sum & 7)
                sum >>= 3
            }
            bytes[block + Ustar.checksum.lowerBound + 6] = 0
        }
        block += TarEntryHeader.blockSize
    }
}

private func zstdFrame(_ bytes: [UInt8]) -> [UInt8] {
    let context = ZSTD_createCCtx()!
    defer { ZSTD_freeCCtx(context) }
    _ = ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
    var out = [UInt8](repeating: 0, count: ZSTD_compressBound(bytes.count))
    let written = out.withUnsafeMutableBytes { dst in
        bytes.withUnsafeBytes { src in ZSTD_compress2(context, dst.baseAddress, dst.count, src.baseAddress, src.count) }
    }
    precondition(ZSTD_isError(written) == 0, "zstd compression failed")
    return Array(out[..<written])
}

/// `frame` through PayloadReader in chunks of `chunk` bytes (the first one at least the
/// five bytes the frame check needs).
private func readPayload(_ frame: [UInt8], uncompressedSize: UInt64, chunk: Int) -> (failure: FormatError?, admitted: [[UInt8]]) {
    let metadata = Array("app=fuzz\0".utf8)
    var hash = SHA256()
    hash.update(frame)
    hash.update(metadata)
    let trailer = Trailer(
        payloadOffset: 0, payloadLength: UInt64(frame.count), metadataOffset: UInt64(frame.count),
        metadataLength: UInt64(metadata.count), contentHash: hash.finalize(), uncompressedSize: uncompressedSize)
    var reader = PayloadReader(for: Trailer.Located(trailer: trailer, metadataBytes: metadata, metadata: try! Metadata.parse(metadata)))!
    var admitted: [[UInt8]] = []
    let failure = frame.withUnsafeBytes { raw -> FormatError? in
        var offset = 0
        do throws(FormatError) {
            while offset < raw.count {
                let end = min(raw.count, offset + (offset == 0 ? max(chunk, 5) : chunk))
                try reader.feed(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                while let event = try reader.next() {
                    if case .entryStart(let header) = event { admitted.append(header.path) }
                }
                offset = end
            }
            try reader.finish()
        } catch {
            return error
        }
        return nil
    }
    return (failure, admitted)
}
