import CZstd
import Testing
@testable import BatamantaFormat

/// One zstd frame of `bytes`, with the content checksum unless `checksum` is false.
func zstdFrame(_ bytes: [UInt8], checksum: Bool = true) -> [UInt8] {
    let context = ZSTD_createCCtx()!
    defer { ZSTD_freeCCtx(context) }
    _ = ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, checksum ? 1 : 0)
    var out = [UInt8](repeating: 0, count: ZSTD_compressBound(bytes.count))
    let written = out.withUnsafeMutableBytes { dst in
        bytes.withUnsafeBytes { src in ZSTD_compress2(context, dst.baseAddress, dst.count, src.baseAddress, src.count) }
    }
    precondition(ZSTD_isError(written) == 0, "zstd compression failed")
    return Array(out[..<written])
}

/// What `Trailer.locate` would find for `payload` and `metadata`, with the trailer's
/// hash and size overridable to make it lie.
func located(_ payload: [UInt8], metadata: [UInt8] = Array("app=demo\0".utf8), uncompressedSize: UInt64,
             contentHash: [UInt8]? = nil) throws -> Trailer.Located {
    var hash = SHA256()
    hash.update(payload)
    hash.update(metadata)
    let trailer = Trailer(
        payloadOffset: 0, payloadLength: UInt64(payload.count), metadataOffset: UInt64(payload.count),
        metadataLength: UInt64(metadata.count), contentHash: contentHash ?? hash.finalize(), uncompressedSize: uncompressedSize)
    return Trailer.Located(trailer: trailer, metadataBytes: metadata, metadata: try Metadata.parse(metadata))
}

/// Feeds `chunks` in order and collects entries, then finishes.
func readPayload(_ chunks: [[UInt8]], _ located: Trailer.Located) throws -> [ReadEntry] {
    var payload = PayloadReader(for: located)!
    var entries: [ReadEntry] = []
    for chunk in chunks {
        try chunk.withUnsafeBytes { bytes in
            payload.feed(bytes)
            while let event = try payload.next() {
                switch event {
                case .entryStart(let header): entries.append(ReadEntry(header: header, contents: []))
                case .data(let data): entries[entries.count - 1].contents += Array(data)
                case .entryEnd: break
                }
            }
        }
    }
    try payload.finish()
    return entries
}

func chunked(_ bytes: [UInt8], _ size: Int) -> [[UInt8]] {
    stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min(bytes.count, $0 + size)]) }
}

@Suite struct PayloadReaderTests {
    /// Large enough that zstd fills its output buffer more than once.
    static let tar: [UInt8] = {
        var tar = TarBuilder()
        tar.directory("bin")
        tar.file("bin/start", "#!/bin/sh\n", mode: 0o755)
        tar.file("bin/big", String(repeating: "0123456789abcdef", count: 40_000))
        tar.symlink("current", "bin")
        tar.end()
        return tar.bytes
    }()
    static let frame = zstdFrame(tar)

    @Test func yieldsTheTarEntriesWhateverTheChunking() throws {
        let expected = try readTar(Self.tar)
        let payload = try located(Self.frame, uncompressedSize: UInt64(Self.tar.count))
        for size in [5, 7, 4096, Self.frame.count] {
            #expect(try readPayload(chunked(Self.frame, size), payload) == expected)
        }
    }

    @Test func refusesAFrameWithoutChecksum() throws {
        let frame = zstdFrame(Self.tar, checksum: false)
        #expect(throws: FormatError.corrupt(.payloadNotChecksummed)) {
            try readPayload([frame], try located(frame, uncompressedSize: UInt64(Self.tar.count)))
        }
        let second = zstdFrame([], checksum: false)
        #expect(throws: FormatError.corrupt(.payloadAfterFrame)) {
            try readPayload([Self.frame + second], try located(Self.frame + second, uncompressedSize: UInt64(Self.tar.count)))
        }
    }

    /// The tar stream may be cut anywhere between frames, and a frame's header between
    /// chunks, however short they are.
    @Test func readsFramesOneAfterTheOther() throws {
        let expected = try readTar(Self.tar)
        for cut in [0, 512, 1000, Self.tar.count / 2, Self.tar.count] {
            let frames = zstdFrame(Array(Self.tar[..<cut])) + zstdFrame(Array(Self.tar[cut...])) + zstdFrame([])
            let payload = try located(frames, uncompressedSize: UInt64(Self.tar.count))
            for size in [1, 3, 5, 4096, frames.count] {
                #expect(try readPayload(chunked(frames, size), payload) == expected)
            }
        }
        let half = Self.tar.count / 2
        let truncated = zstdFrame(Array(Self.tar[..<half])) + zstdFrame(Array(Self.tar[half...])).dropLast(4)
        #expect(throws: FormatError.corrupt(.payloadTruncated)) {
            try readPayload([truncated], try located(truncated, uncompressedSize: UInt64(Self.tar.count)))
        }
    }

    /// The dispenser drives the decoding layer on its own, into buffers of its own size:
    /// whatever the sizes of the chunks and of the output, the bytes are the tar stream's,
    /// and fewer bytes than asked for means the chunk is used up.
    @Test func decoderYieldsTheTarStreamIntoAnyOutputSize() throws {
        let half = Self.tar.count / 2
        let frames = zstdFrame(Array(Self.tar[..<half])) + zstdFrame(Array(Self.tar[half...]))
        let payload = try located(frames, uncompressedSize: UInt64(Self.tar.count))
        for (chunkSize, outputSize) in [(1, 1), (5, 7), (4096, 512), (frames.count, 1 << 17), (3, 1 << 20)] {
            var decoder = PayloadDecoder(for: payload)!
            let output = UnsafeMutableRawBufferPointer.allocate(byteCount: outputSize, alignment: 1)
            defer { output.deallocate() }
            var decoded: [UInt8] = []
            for chunk in chunked(frames, chunkSize) {
                try chunk.withUnsafeBytes { bytes in
                    decoder.feed(bytes)
                    while true {
                        let count = try decoder.decode(into: output)
                        decoded += output[..<count]
                        if count < output.count { break }
                    }
                }
            }
            try decoder.finish()
            #expect(decoded == Self.tar, "chunks of \(chunkSize), output of \(outputSize)")
        }
    }

    @Test func refusesDataAfterTheFrameInTheSameOrALaterChunk() throws {
        let trailing = Self.frame + Array("x".utf8)
        let payload = try located(trailing, uncompressedSize: UInt64(Self.tar.count))
        #expect(throws: FormatError.corrupt(.payloadAfterFrame)) { try readPayload([trailing], payload) }
        #expect(throws: FormatError.corrupt(.payloadAfterFrame)) { try readPayload([Self.frame, Array("x".utf8)], payload) }
        #expect(FormatError.corrupt(.payloadAfterFrame).summary.description.contains("after a zstd frame"))
    }

    @Test func refusesATruncatedFrame() throws {
        let truncated = Array(Self.frame.dropLast(4))
        #expect(throws: FormatError.corrupt(.payloadTruncated)) {
            try readPayload([truncated], try located(truncated, uncompressedSize: UInt64(Self.tar.count)))
        }
    }

    @Test func refusesADamagedFrame() throws {
        var damaged = Self.frame
        damaged[damaged.count / 2] ^= 0xff
        #expect(throws: FormatError.corrupt(.payloadUndecodable)) {
            try readPayload([damaged], try located(damaged, uncompressedSize: UInt64(Self.tar.count)))
        }
    }

    @Test func refusesAPayloadOrMetadataThatDoesNotMatchTheContentHash() throws {
        let wrong = [UInt8](repeating: 7, count: 32)
        #expect(throws: FormatError.corrupt(.contentHash)) {
            try readPayload([Self.frame], try located(Self.frame, uncompressedSize: UInt64(Self.tar.count), contentHash: wrong))
        }
        var payload = try located(Self.frame, uncompressedSize: UInt64(Self.tar.count))
        payload.metadataBytes = Array("app=other\0".utf8)
        #expect(throws: FormatError.corrupt(.contentHash)) { try readPayload([Self.frame], payload) }
    }

    @Test func refusesAnUncompressedSizeOtherThanTheTrailers() throws {
        #expect(throws: FormatError.corrupt(.uncompressedSize)) {
            try readPayload([Self.frame], try located(Self.frame, uncompressedSize: UInt64(Self.tar.count) + 1))
        }
    }

    @Test func passesOnTheTarReadersVerdict() throws {
        var tar = TarBuilder()
        tar.file("orphan/file")
        tar.end()
        let frame = zstdFrame(tar.bytes)
        #expect(throws: FormatError.unsafeEntry(.missingParent, path: Array("orphan/file".utf8))) {
            try readPayload([frame], try located(frame, uncompressedSize: UInt64(tar.bytes.count)))
        }
        let unterminatedTar = Array(Self.tar.dropLast(1024))
        let unterminated = zstdFrame(unterminatedTar)
        #expect(throws: FormatError.corrupt(.tarTruncated)) {
            try readPayload([unterminated], try located(unterminated, uncompressedSize: UInt64(unterminatedTar.count)))
        }
    }
}
