import Foundation
import Testing
@testable import BatamantaFormat

/// Builds tar streams from entries, optionally with raw blocks for hostile fixtures.
struct TarBuilder {
    var bytes: [UInt8] = []

    mutating func add(_ header: TarEntryHeader, contents: [UInt8] = []) {
        bytes += header.encoded()
        bytes += contents + [UInt8](repeating: 0, count: padding(UInt64(contents.count)))
    }

    mutating func directory(_ path: String) { add(TarEntryHeader(path: Array(path.utf8), kind: .directory, mode: 0o755)) }
    mutating func file(_ path: String, _ contents: String = "data", mode: UInt32 = 0o644) {
        add(TarEntryHeader(path: Array(path.utf8), kind: .file, mode: mode, size: UInt64(contents.utf8.count)), contents: Array(contents.utf8))
    }
    mutating func symlink(_ path: String, _ target: String) {
        add(TarEntryHeader(path: Array(path.utf8), kind: .symlink, mode: 0o777, linkTarget: Array(target.utf8)))
    }
    mutating func raw(name: String, typeflag: Character, size: UInt64 = 0, linkName: String = "") {
        bytes += TarEntryHeader.ustarBlock(
            name: Array(name.utf8), prefix: [], mode: 0o644, size: size, mtime: 0,
            typeflag: typeflag.asciiValue!, linkName: Array(linkName.utf8))
    }
    mutating func end() { bytes += [UInt8](repeating: 0, count: 1024) }
}

struct ReadEntry: Equatable {
    var header: TarEntryHeader
    var contents: [UInt8]
}

/// Feeds `bytes` in chunks of `chunkSize` and collects entries, checking event order.
func readTar(_ bytes: [UInt8], chunkSize: Int = 4096) throws(FormatError) -> [ReadEntry] {
    var reader = TarReader()
    var entries: [ReadEntry] = []
    var open = false
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + chunkSize)
        let chunk = Array(bytes[offset..<end])
        offset = end
        let failure = chunk.withUnsafeBytes { raw -> FormatError? in
            var input = raw
            do throws(FormatError) {
                while let event = try reader.next(&input) {
                    switch event {
                    case .entryStart(let header):
                        precondition(!open, "entryStart inside an entry")
                        open = true
                        entries.append(ReadEntry(header: header, contents: []))
                    case .data(let data):
                        precondition(open, "data outside an entry")
                        entries[entries.count - 1].contents += Array(data)
                    case .entryEnd:
                        precondition(open, "entryEnd outside an entry")
                        open = false
                    }
                }
            } catch {
                return error
            }
            precondition(input.isEmpty, "reader left input unconsumed")
            return nil
        }
        if let failure { throw failure }
    }
    try reader.finish()
    return entries
}

@Suite struct TarHeaderTests {
    @Test func roundTripOfEveryKindInOneByteChunks() throws {
        var tar = TarBuilder()
        tar.directory("bin")
        tar.file("bin/run", "#!/bin/sh\necho hi\n", mode: 0o755)
        tar.symlink("bin/link", "run")
        tar.file("empty", "")
        tar.file("big", String(repeating: "x", count: 1500))
        tar.end()
        for chunkSize in [1, 7, 511, 512, 513, 100_000] {
            let entries = try readTar(tar.bytes, chunkSize: chunkSize)
            #expect(entries.map { String(decoding: $0.header.path, as: UTF8.self) } == ["bin", "bin/run", "bin/link", "empty", "big"])
            #expect(entries.map(\.header.kind) == [.directory, .file, .symlink, .file, .file])
            #expect(entries[1].header.mode == 0o755)
            #expect(entries[1].contents == Array("#!/bin/sh\necho hi\n".utf8))
            #expect(entries[2].header.linkTarget == Array("run".utf8))
            #expect(entries[3].contents.isEmpty)
            #expect(entries[4].contents.count == 1500)
        }
    }

    @Test func encodingIsDeterministicUstar() {
        let header = TarEntryHeader(path: Array("a/b".utf8), kind: .file, mode: 0o100755, size: 3, mtime: 0)
        let block = header.encoded()
        #expect(block.count == 512)
        #expect(block == header.encoded())
        #expect(Array(block[257..<265]) == Array("ustar\u{0}00".utf8))
        #expect(Array(block[100..<108]) == Array("0000755\u{0}".utf8), "mode keeps only permission bits")
        #expect(Array(block[108..<124]) == Array("0000000\u{0}0000000\u{0}".utf8), "uid/gid 0")
        #expect(block[265..<297].allSatisfy { $0 == 0 } && block[297..<329].allSatisfy { $0 == 0 }, "empty uname/gname")
        let directory = TarEntryHeader(path: Array("dir".utf8), kind: .directory, mode: 0o755).encoded()
        #expect(Array(directory[0..<5]) == Array("dir/\u{0}".utf8))
    }

    @Test func longPathsUsePrefixOrPax() throws {
        let prefixed = String(repeating: "p", count: 120) + "/" + String(repeating: "n", count: 90)
        let encodedPrefixed = TarEntryHeader(path: Array(prefixed.utf8), kind: .file, mode: 0o644).encoded()
        #expect(encodedPrefixed.count == 512, "fits ustar prefix + name without pax")

        let long = (0..<30).map { _ in "component" }.joined(separator: "/")
        let longTarget = String(repeating: "../", count: 1) + String(repeating: "t", count: 150)
        var tar = TarBuilder()
        var parent = ""
        for component in long.split(separator: "/").dropLast() {
            parent += (parent.isEmpty ? "" : "/") + component
            tar.directory(parent)
        }
        tar.file(long, "deep")
        tar.directory(prefixed.split(separator: "/")[0].description)
        tar.file(prefixed, "prefixed")
        tar.symlink(parent + "/link", longTarget)
        tar.end()
        #expect(tar.bytes.contains(Array("path=\(long)\n".utf8)))
        #expect(tar.bytes.contains(Array("linkpath=\(longTarget)\n".utf8)))
        let entries = try readTar(tar.bytes, chunkSize: 1)
        #expect(entries.contains { $0.header.path == Array(long.utf8) && $0.contents == Array("deep".utf8) })
        #expect(entries.contains { $0.header.path == Array(prefixed.utf8) && $0.contents == Array("prefixed".utf8) })
        #expect(entries.contains { $0.header.kind == .symlink && $0.header.linkTarget == Array(longTarget.utf8) })
    }

    @Test func paxRecordLengthCountsItself() {
        var records: [UInt8] = []
        records.appendPaxRecord("path", [UInt8](repeating: UInt8(ascii: "a"), count: 91))
        #expect(records.count == 101, "97 bytes of body: 99 with two digits is not self-consistent, so three")
        #expect(Array(records.prefix(4)) == Array("101 ".utf8))
    }

    @Test func hugeSizesGoToPax() {
        let header = TarEntryHeader(path: Array("big".utf8), kind: .file, mode: 0o644, size: 1 << 34)
        #expect(header.encoded().contains(Array("size=17179869184\n".utf8)))
    }

    /// What `tar --format=posix` writes (pax mtime/atime records, trailing record padding) must read back.
    @Test func readsGNUTarPosixOutput() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tar-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let tree = directory.appendingPathComponent("tree")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("d/" + String(repeating: "x", count: 120)), withIntermediateDirectories: true)
        try Data("hello".utf8).write(to: tree.appendingPathComponent("d/f"))
        try FileManager.default.createSymbolicLink(atPath: tree.appendingPathComponent("d/l").path, withDestinationPath: "f")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        process.arguments = ["--sort=name", "--format=posix", "-C", tree.path, "-cf", directory.appendingPathComponent("t.tar").path, "d"]
        try process.run()
        process.waitUntilExit()
        let bytes = Array(try Data(contentsOf: directory.appendingPathComponent("t.tar")))
        let entries = try readTar(bytes, chunkSize: 333)
        #expect(entries.map { String(decoding: $0.header.path, as: UTF8.self) } == ["d", "d/f", "d/l", "d/" + String(repeating: "x", count: 120)])
        #expect(entries[1].contents == Array("hello".utf8))
    }
}

@Suite struct TarReaderRejectionTests {
    static func rejection(_ build: (inout TarBuilder) -> Void, chunkSize: Int = 512) -> FormatError? {
        var tar = TarBuilder()
        build(&tar)
        do {
            _ = try readTar(tar.bytes, chunkSize: chunkSize)
            return nil
        } catch {
            return error
        }
    }

    static func unsafe(_ reason: UnsafeEntry, _ path: String) -> FormatError { .unsafeEntry(reason, path: Array(path.utf8)) }

    @Test func parentComponents() {
        #expect(Self.rejection { $0.file("../x"); $0.end() } == Self.unsafe(.parentComponent, "../x"))
        #expect(Self.rejection { $0.directory("a"); $0.file("a/../../x"); $0.end() } == Self.unsafe(.parentComponent, "a/../../x"))
    }

    @Test func absoluteAndOddPaths() {
        #expect(Self.rejection { $0.file("/etc/x"); $0.end() } == Self.unsafe(.absolutePath, "/etc/x"))
        #expect(Self.rejection { $0.file("./x"); $0.end() } == Self.unsafe(.dotComponent, "./x"))
        #expect(Self.rejection { $0.directory("a"); $0.file("a//x"); $0.end() } == Self.unsafe(.dotComponent, "a//x"))
        #expect(Self.rejection { $0.raw(name: "", typeflag: "0"); $0.end() } == Self.unsafe(.emptyPath, ""))
        #expect(Self.rejection { $0.file("a/x"); $0.end() } == Self.unsafe(.missingParent, "a/x"))
        #expect(Self.rejection { $0.file("x"); $0.file("x"); $0.end() } == Self.unsafe(.duplicate, "x"))
        #expect(Self.rejection { $0.directory("x"); $0.symlink("x", "."); $0.end() } == Self.unsafe(.duplicate, "x"))
    }

    @Test func escapingSymlinks() {
        #expect(Self.rejection { $0.symlink("l", "/etc"); $0.end() } == Self.unsafe(.absoluteLinkTarget, "l"))
        #expect(Self.rejection { $0.symlink("l", ".."); $0.end() } == Self.unsafe(.escapingLinkTarget, "l"))
        #expect(Self.rejection { $0.directory("a"); $0.symlink("a/l", "../../x"); $0.end() } == Self.unsafe(.escapingLinkTarget, "a/l"))
        #expect(Self.rejection { $0.symlink("l", ""); $0.end() } == Self.unsafe(.escapingLinkTarget, "l"))
        #expect(Self.rejection { $0.directory("a"); $0.symlink("a/l", "../x"); $0.end() } == nil, "a link to a sibling stays inside")
    }

    /// Each link stays inside on its own, but a/b/A goes through a/b/L (which points at the
    /// root) and then climbs out: only resolving through the archive's links catches it.
    @Test func symlinkChainEscape() {
        let failure = Self.rejection {
            $0.directory("a"); $0.directory("a/b")
            $0.symlink("a/b/A", "L/../..")
            $0.symlink("a/b/L", "../..")
            $0.end()
        }
        #expect(failure == Self.unsafe(.escapingLinkTarget, "a/b/A"))
        #expect(Self.rejection { $0.symlink("x", "y"); $0.symlink("y", "x"); $0.end() } == Self.unsafe(.escapingLinkTarget, "x"), "loops")
    }

    @Test func writingThroughASymlinkOrFile() {
        #expect(Self.rejection { $0.directory("d"); $0.symlink("l", "d"); $0.file("l/x"); $0.end() } == Self.unsafe(.throughLink, "l/x"))
        #expect(Self.rejection { $0.symlink("l", "."); $0.file("l/x"); $0.end() } == Self.unsafe(.throughLink, "l/x"))
        #expect(Self.rejection { $0.file("f"); $0.file("f/x"); $0.end() } == Self.unsafe(.throughLink, "f/x"))
        #expect(Self.rejection { $0.symlink("l", "x"); $0.file("l"); $0.end() } == Self.unsafe(.duplicate, "l"))
    }

    @Test func unsupportedEntryTypes() {
        for typeflag: Character in ["1", "3", "4", "6", "7", "L", "K", "g", "S"] {
            #expect(Self.rejection { $0.raw(name: "x", typeflag: typeflag, linkName: "y"); $0.end() } == .corrupt(.tarEntryType), "type \(typeflag)")
        }
        #expect(Self.rejection { $0.raw(name: "d", typeflag: "5", size: 512); $0.bytes += [UInt8](repeating: 0, count: 512); $0.end() }
            == .corrupt(.tarEntrySize))
    }

    @Test func badChecksumAndMagic() {
        #expect(Self.rejection { $0.file("x"); $0.bytes[0] = UInt8(ascii: "y"); $0.end() } == .corrupt(.tarChecksum))
        #expect(Self.rejection { $0.file("x"); $0.bytes[257] = UInt8(ascii: "U"); $0.end() } == .corrupt(.tarMagic))
        #expect(Self.rejection { $0.file("x"); $0.bytes[148] = UInt8(ascii: "9"); $0.end() } == .corrupt(.tarNumber))
        #expect(Self.rejection { $0.bytes += [UInt8](repeating: 7, count: 512); $0.end() } == .corrupt(.tarMagic))
    }

    @Test func truncationAndMissingEndBlocks() {
        var tar = TarBuilder()
        tar.file("x", String(repeating: "z", count: 2000))
        tar.end()
        let whole = tar.bytes
        #expect(throws: Never.self) { try readTar(whole) }
        for cut in [1, 100, 512, 1023, 1024, 1500, whole.count - 1] {
            #expect(throws: FormatError.corrupt(.tarTruncated), "cut \(cut)") { try readTar(Array(whole.prefix(cut))) }
        }
        #expect(throws: FormatError.corrupt(.tarTruncated)) { try readTar(Array(whole.dropLast(1024))) }
        #expect(throws: FormatError.corrupt(.tarTruncated)) { try readTar(Array(whole.dropLast(512))) }
        #expect(throws: FormatError.corrupt(.tarTruncated)) { try readTar([]) }
    }

    @Test func dataAfterTheEnd() {
        #expect(Self.rejection { $0.end(); $0.bytes += [UInt8](repeating: 0, count: 9000) } == nil, "record padding is fine")
        #expect(Self.rejection { $0.end(); $0.file("late") } == .corrupt(.tarTrailingData))
        #expect(Self.rejection { $0.bytes += [UInt8](repeating: 0, count: 512); $0.file("x") } == .corrupt(.tarTrailingData))
    }

    @Test func malformedPax() {
        func pax(_ records: String) -> (inout TarBuilder) -> Void {
            { tar in
                let body = Array(records.utf8)
                tar.raw(name: "pax", typeflag: "x", size: UInt64(body.count))
                tar.bytes += body + [UInt8](repeating: 0, count: padding(UInt64(body.count)))
                tar.file("x")
                tar.end()
            }
        }
        #expect(Self.rejection(pax("10 path=y\n")) == nil)
        #expect(Self.rejection(pax("11 path=y\n")) == .corrupt(.tarPax))
        #expect(Self.rejection(pax("abc")) == .corrupt(.tarPax))
        #expect(Self.rejection(pax("10 pathy\n\n")) == .corrupt(.tarPax))
        #expect(Self.rejection(pax("12 size=1x2\n")) == .corrupt(.tarPax))
        #expect(Self.rejection(pax("13 path=../x\n")) == Self.unsafe(.parentComponent, "../x"))
        #expect(Self.rejection { $0.raw(name: "pax", typeflag: "x", size: 1 << 21); $0.end() } == .corrupt(.tarPax))
    }
}
