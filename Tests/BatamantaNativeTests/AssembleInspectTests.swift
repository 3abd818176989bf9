import BatamantaFormat
import Glibc
import Testing
@testable import BatamantaNative

@Suite struct AssembleInspectTests {
    static var metadata: Metadata { Metadata(entries: [
        (key: Array("app".utf8), value: Array("hello".utf8)),
        (key: Array("arg".utf8), value: Array("-extra".utf8)),
        (key: Array("arg".utf8), value: Array("héllo ✓".utf8)),
    ]) }

    func build(in work: TemporaryDirectory) throws -> (Pack.Outcome, Assemble.Outcome) {
        try PackTests.makeTree(at: work("tree"), reversed: false)
        try writeFile(work("dispenser"), String(repeating: "\u{7f}ELF dispenser bytes ", count: 1000), mode: 0o755)
        let packed = try Pack.pack(work("tree"), to: work("payload.zst"), settings: .init(level: 3), mtime: 0, progress: .ignored)
        let assembled = try Assemble.assemble(
            dispenser: work("dispenser"), payload: work("payload.zst"), metadata: Self.metadata,
            uncompressedSize: packed.uncompressed, output: work("hello"))
        return (packed, assembled)
    }

    @Test func assembledFileParsesBack() throws {
        let work = TemporaryDirectory()
        let (packed, assembled) = try build(in: work)
        let bytes = try readFile(work("hello"))
        let dispenser = try readFile(work("dispenser"))
        let payload = try readFile(work("payload.zst"))
        #expect(assembled.size == UInt64(bytes.count))
        #expect(try FileSystem.status(work("hello"), followingLinks: false).mode == 0o755)
        #expect(shell("sha256sum '\(work)/hello'").output.hasPrefix(Hex.encode(assembled.sha256)))

        let trailer = try Trailer.parse(Array(bytes.suffix(Trailer.size)), fileSize: UInt64(bytes.count))
        #expect(trailer.payloadOffset == UInt64(dispenser.count))
        #expect(trailer.payloadLength == UInt64(payload.count))
        #expect(trailer.uncompressedSize == packed.uncompressed)
        #expect(Array(bytes.prefix(dispenser.count)) == dispenser)
        #expect(Array(bytes[Int(trailer.payloadOffset)..<Int(trailer.metadataOffset)]) == payload)
        var hash = SHA256()
        hash.update(payload)
        hash.update(Self.metadata.encoded())
        #expect(trailer.contentHash == hash.finalize())
        #expect(trailer.contentHash == assembled.contentHash)
    }

    @Test func inspectListsWhatWasPacked() throws {
        let work = TemporaryDirectory()
        let (packed, _) = try build(in: work)
        let contents = try Inspect.inspect(work("hello"), listing: true)
        #expect(contents.entries.count == packed.entries)
        #expect(contents.metadata.entries.map(\.value) == Self.metadata.entries.map(\.value))
        let start = try #require(contents.entries.first { $0.path == Array("bin/start".utf8) })
        #expect(start.mode == 0o755 && start.kind == .file && start.size == 18)
        let link = try #require(contents.entries.first { $0.path == Array("lib/app".utf8) })
        #expect(link.kind == .symlink && link.linkTarget == Array("app-0.1.0".utf8))
        #expect(contents.entries.contains { $0.path == Array(PackTests.longName.utf8) && $0.size == 70_000 })

        let summary = try Inspect.inspect(work("hello"), listing: false)
        #expect(summary.entries.isEmpty && summary.trailer == contents.trailer)
    }

    @Test func inspectRefusesStrippedAndTamperedFiles() throws {
        let work = TemporaryDirectory()
        _ = try build(in: work)
        #expect { try Inspect.inspect(work("dispenser"), listing: false) } throws: {
            ($0 as? CommandError)?.code == .noTrailer && ($0 as? CommandError)?.message.contains("dispenser") == true
        }
        shell("head -c -1 '\(work)/hello' > '\(work)/truncated'")
        #expect { try Inspect.inspect(work("truncated"), listing: false) } throws: { ($0 as? CommandError)?.code == .noTrailer }

        // Flip one payload byte: the content hash no longer matches.
        shell("cp '\(work)/hello' '\(work)/tampered' && printf '\\001' | dd of='\(work)/tampered' bs=1 seek=21000 conv=notrunc 2>/dev/null")
        #expect { try Inspect.inspect(work("tampered"), listing: true) } throws: { ($0 as? CommandError)?.code == .corrupt }
    }

    /// Puts `payload` and `metadata` behind the test dispenser with a trailer that matches
    /// them, bypassing `:assemble`'s own checks.
    func handAssemble(_ payload: [UInt8], metadata: [UInt8], at output: FilePath, in work: TemporaryDirectory) throws {
        let dispenser = try readFile(work("dispenser"))
        var content = SHA256()
        content.update(payload)
        content.update(metadata)
        let trailer = Trailer(
            payloadOffset: UInt64(dispenser.count), payloadLength: UInt64(payload.count),
            metadataOffset: UInt64(dispenser.count + payload.count), metadataLength: UInt64(metadata.count),
            contentHash: content.finalize(), uncompressedSize: 0)
        let file = try FileDescriptor.open(output, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o755)
        try file.writeAll(dispenser + payload + metadata + trailer.encoded())
    }

    @Test func inspectRefusesWhatTheDispenserRefuses() throws {
        let work = TemporaryDirectory()
        _ = try build(in: work)
        let payload = try readFile(work("payload.zst"))

        let huge = Metadata(entries: [(key: Array("pad".utf8), value: [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20))])
        try handAssemble(payload, metadata: huge.encoded(), at: work("huge"), in: work)
        #expect { try Inspect.inspect(work("huge"), listing: false) } throws: {
            ($0 as? CommandError)?.code == .corrupt && ($0 as? CommandError)?.message.contains("corrupt trailer") == true
        }

        try handAssemble(payload + Array("trailing".utf8), metadata: Self.metadata.encoded(), at: work("trailing"), in: work)
        #expect { try Inspect.inspect(work("trailing"), listing: true) } throws: {
            ($0 as? CommandError)?.code == .corrupt && ($0 as? CommandError)?.message.contains("after a zstd frame") == true
        }

        shell("zstd -q --no-check -3 -c '\(work)/payload.zst' > '\(work)/unchecked.zst'")
        try handAssemble(try readFile(work("unchecked.zst")), metadata: Self.metadata.encoded(), at: work("unchecked"), in: work)
        #expect { try Inspect.inspect(work("unchecked"), listing: true) } throws: {
            ($0 as? CommandError)?.code == .corrupt && ($0 as? CommandError)?.message.contains("content checksum") == true
        }
    }

    @Test func assembleRefusesAPayloadWithoutChecksum() throws {
        let work = TemporaryDirectory()
        try writeFile(work("dispenser"), "d")
        try writeFile(work("tar/file"), "contents")
        shell("tar -cf - -C '\(work)/tar' file | zstd -q --no-check -c > '\(work)/unchecked.zst'")
        #expect { try Assemble.assemble(dispenser: work("dispenser"), payload: work("unchecked.zst"), metadata: Self.metadata,
                                        uncompressedSize: 0, output: work("out")) } throws: {
            ($0 as? CommandError)?.code == .invalidArgument && ($0 as? CommandError)?.message.contains("unchecked.zst") == true
        }
        #expect(!FileSystem.exists(work("out")))
    }

    @Test func assembleValidatesItsInputs() throws {
        let work = TemporaryDirectory()
        try writeFile(work("dispenser"), "d")
        try writeFile(work("notzstd"), "plain text payload")
        #expect {
            try Assemble.assemble(dispenser: work("dispenser"), payload: work("notzstd"), metadata: Self.metadata,
                                  uncompressedSize: 0, output: work("out"))
        } throws: { ($0 as? CommandError)?.message.contains("notzstd") == true }
        let badKey = Arguments(.record([
            "dispenser": .string("\(work)/dispenser"), "payload": .string("\(work)/notzstd"), "output": .string("\(work)/out"),
            "metadata": .list([.tuple([.string("Bad-Key"), .string("v")])]), "uncompressed": .integer(0),
        ]), command: "assemble")
        #expect { try Assemble.run(badKey, .ignored) } throws: { ($0 as? CommandError)?.code == .invalidArgument }
        #expect { try Assemble.assemble(dispenser: work("missing"), payload: work("notzstd"), metadata: Self.metadata,
                                        uncompressedSize: 0, output: work("out")) } throws: { ($0 as? CommandError)?.code == .enoent }
        #expect(!FileSystem.exists(work("out")))
    }
}
