import Testing
@testable import BatamantaFormat

@Suite struct TrailerTests {
    static let hash = (0..<32).map { UInt8($0) }
    static let sample = Trailer(
        payloadOffset: 1000, payloadLength: 500, metadataOffset: 1500, metadataLength: 40, contentHash: hash, uncompressedSize: 4096)
    static let fileSize: UInt64 = 1540 + 96

    @Test func roundTrip() throws {
        let bytes = Self.sample.encoded()
        #expect(bytes.count == Trailer.size)
        #expect(Array(bytes[0..<8]) == Array("BATAMNTA".utf8))
        #expect(Array(bytes[88..<96]) == Array("ATNMATAB".utf8))
        #expect(try Trailer.parse(bytes, fileSize: Self.fileSize) == Self.sample)
    }

    @Test func fieldsAreLittleEndianAtDocumentedOffsets() {
        let bytes = Self.sample.encoded()
        #expect(Array(bytes[8..<16]) == [1, 0, 0, 0, 96, 0, 0, 0])
        #expect(Array(bytes[16..<18]) == [0xe8, 0x03])
        #expect(Array(bytes[48..<80]) == Self.hash)
        #expect(Array(bytes[80..<83]) == [0, 0x10, 0])
    }

    @Test func missingMagicIsNoTrailer() {
        var bytes = Self.sample.encoded()
        bytes[0] = UInt8(ascii: "X")
        #expect(throws: FormatError.noTrailer) { try Trailer.parse(bytes, fileSize: Self.fileSize) }
        var end = Self.sample.encoded()
        end[95] = 0
        #expect(throws: FormatError.noTrailer) { try Trailer.parse(end, fileSize: Self.fileSize) }
        #expect(throws: FormatError.noTrailer) { try Trailer.parse(Array(Self.sample.encoded().dropFirst()), fileSize: Self.fileSize) }
        #expect(throws: FormatError.noTrailer) { try Trailer.parse([], fileSize: 0) }
    }

    @Test func wrongVersionOrSize() {
        var version = Self.sample.encoded()
        version[8] = 2
        #expect(throws: FormatError.corrupt(.trailerVersion)) { try Trailer.parse(version, fileSize: Self.fileSize) }
        var size = Self.sample.encoded()
        size[12] = 95
        #expect(throws: FormatError.corrupt(.trailerLayout)) { try Trailer.parse(size, fileSize: Self.fileSize) }
    }

    @Test func inconsistentLayoutIsCorrupt() {
        let layout = FormatError.corrupt(.trailerLayout)
        #expect(throws: layout) { try Trailer.parse(Self.sample.encoded(), fileSize: Self.fileSize + 1) }
        #expect(throws: layout) { try Trailer.parse(Self.sample.encoded(), fileSize: Self.fileSize - 1) }
        #expect(throws: layout) { try Trailer.parse(Self.sample.encoded(), fileSize: 10) }
        var gap = Self.sample
        gap.metadataOffset += 1
        gap.metadataLength -= 1
        #expect(throws: layout) { try Trailer.parse(gap.encoded(), fileSize: Self.fileSize) }
        var emptyPayload = Self.sample
        emptyPayload.payloadOffset = 1500
        emptyPayload.payloadLength = 0
        #expect(throws: layout) { try Trailer.parse(emptyPayload.encoded(), fileSize: Self.fileSize) }
        var emptyMetadata = Self.sample
        emptyMetadata.payloadLength = 540
        emptyMetadata.metadataOffset = 1540
        emptyMetadata.metadataLength = 0
        #expect(throws: layout) { try Trailer.parse(emptyMetadata.encoded(), fileSize: Self.fileSize) }
        var overflow = Self.sample
        overflow.payloadOffset = UInt64.max - 10
        #expect(throws: layout) { try Trailer.parse(overflow.encoded(), fileSize: Self.fileSize) }
    }

    @Test func metadataLongerThanTheLimitIsCorrupt() throws {
        var atLimit = Self.sample
        atLimit.metadataLength = Trailer.maxMetadataLength
        let atLimitSize = atLimit.metadataOffset + atLimit.metadataLength + UInt64(Trailer.size)
        #expect(try Trailer.parse(atLimit.encoded(), fileSize: atLimitSize) == atLimit)
        var over = atLimit
        over.metadataLength += 1
        #expect(throws: FormatError.corrupt(.trailerLayout)) { try Trailer.parse(over.encoded(), fileSize: atLimitSize + 1) }
    }

    @Test func zstdFrameHeaderNeedsTheChecksumFlag() {
        #expect(ZstdFrame.hasChecksummedHeader([0x28, 0xB5, 0x2F, 0xFD, 0x24, 0x00]))
        #expect(!ZstdFrame.hasChecksummedHeader([0x28, 0xB5, 0x2F, 0xFD, 0x20, 0x00]))
        #expect(!ZstdFrame.hasChecksummedHeader([0x28, 0xB5, 0x2F, 0xFD]))
        #expect(!ZstdFrame.hasChecksummedHeader([0x28, 0xB5, 0x2F, 0xFC, 0x24]))
        #expect(!ZstdFrame.hasChecksummedHeader([UInt8]()))
    }
}

@Suite struct MetadataTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func roundTripKeepsOrderAndRepeatedKeys() throws {
        let metadata = Metadata(entries: [
            (Self.bytes("app"), Self.bytes("hello")), (Self.bytes("arg"), Self.bytes("-extra")),
            (Self.bytes("arg"), []), (Self.bytes("env"), [0xff, 0x3d, 0x01]), (Self.bytes("arg"), Self.bytes("héllo ✓")),
        ])
        let encoded = metadata.encoded()
        #expect(encoded == Self.bytes("app=hello\0arg=-extra\0arg=\0env=") + [0xff, 0x3d, 0x01, 0] + Self.bytes("arg=héllo ✓\0"))
        let parsed = try Metadata.parse(encoded)
        #expect(parsed.entries.map(\.key) == metadata.entries.map(\.key))
        #expect(parsed.entries.map(\.value) == metadata.entries.map(\.value))
        #expect(parsed.first(Self.bytes("app")) == Self.bytes("hello"))
        #expect(parsed.first(Self.bytes("missing")) == nil)
        #expect(parsed.all(Self.bytes("arg")) == [Self.bytes("-extra"), [], Self.bytes("héllo ✓")])
    }

    @Test func valueMayContainEquals() throws {
        let parsed = try Metadata.parse(Self.bytes("env=A=B=C\0"))
        #expect(parsed.first(Self.bytes("env")) == Self.bytes("A=B=C"))
    }

    @Test func rejectsMalformedRecords() {
        #expect(throws: FormatError.corrupt(.metadataRecord)) { try Metadata.parse(Self.bytes("app=x")) }
        #expect(throws: FormatError.corrupt(.metadataRecord)) { try Metadata.parse(Self.bytes("app=x\0noequals\0")) }
        #expect(throws: FormatError.corrupt(.metadataRecord)) { try Metadata.parse([]) }
        #expect(throws: FormatError.corrupt(.metadataKey)) { try Metadata.parse(Self.bytes("App=x\0")) }
        #expect(throws: FormatError.corrupt(.metadataKey)) { try Metadata.parse(Self.bytes("=x\0")) }
        #expect(throws: FormatError.corrupt(.metadataKey)) { try Metadata.parse(Self.bytes("a-b=x\0")) }
        #expect(throws: FormatError.corrupt(.metadataRecord)) { try Metadata.parse(Self.bytes("\0")) }
    }
}

@Suite struct TrailerLocateTests {
    struct ReadFailed: Error, Equatable {
        var refused: FormatError?
    }

    /// `payload`, `metadata` and their trailer as one file, and the reads `locate` made.
    static func locate(payload: [UInt8], metadata: [UInt8], file: (([UInt8]) -> [UInt8])? = nil) throws(ReadFailed) -> Trailer.Located {
        var hash = SHA256()
        hash.update(payload)
        hash.update(metadata)
        let trailer = Trailer(
            payloadOffset: 0, payloadLength: UInt64(payload.count), metadataOffset: UInt64(payload.count),
            metadataLength: UInt64(metadata.count), contentHash: hash.finalize(), uncompressedSize: 1)
        let whole = payload + metadata + trailer.encoded()
        let bytes = file?(whole) ?? whole
        return try Trailer.locate(fileSize: UInt64(bytes.count), read: { (count, offset) throws(ReadFailed) in
            guard offset + UInt64(count) <= UInt64(bytes.count) else { return nil }
            return Array(bytes[Int(offset)..<(Int(offset) + count)])
        }, refusing: { ReadFailed(refused: $0) })
    }

    @Test func findsTrailerAndMetadataInTheTailOrBeyondIt() throws {
        let small = Metadata(entries: [(key: Array("app".utf8), value: Array("demo".utf8))]).encoded()
        let found = try Self.locate(payload: [1, 2, 3], metadata: small)
        #expect(found.metadataBytes == small && found.metadata.first(Array("app".utf8)) == Array("demo".utf8))
        #expect(found.trailer.payloadLength == 3)

        let large = Metadata(entries: [(key: Array("pad".utf8), value: [UInt8](repeating: UInt8(ascii: "x"), count: 10_000))]).encoded()
        #expect(try Self.locate(payload: [UInt8](repeating: 9, count: 5000), metadata: large).metadataBytes == large)
    }

    @Test func refusesThroughTheCallersError() {
        #expect(throws: ReadFailed(refused: .noTrailer)) { try Self.locate(payload: [1], metadata: Array("a=b\0".utf8)) { Array($0.dropLast()) } }
        #expect(throws: ReadFailed(refused: .noTrailer)) { try Self.locate(payload: [1], metadata: Array("a=b\0".utf8)) { _ in [1, 2, 3] } }
        #expect(throws: ReadFailed(refused: .corrupt(.metadataKey))) { try Self.locate(payload: [1], metadata: Array("A=b\0".utf8)) }
    }
}
