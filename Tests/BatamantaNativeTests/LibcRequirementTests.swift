import Glibc
import Testing
@testable import BatamantaNative

@Suite struct LibcRequirementTests {
    /// A minimal 64-bit little-endian ELF with one PT_INTERP segment naming `interpreter`.
    static func elf(interpreter: String) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 64 + 56)
        bytes.replaceSubrange(0..<8, with: [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0])
        func put(_ value: UInt64, at offset: Int, size: Int) {
            for index in 0..<size { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
        }
        put(64, at: 0x20, size: 8)
        put(56, at: 0x36, size: 2)
        put(1, at: 0x38, size: 2)
        put(3, at: 64, size: 4)
        put(UInt64(bytes.count), at: 64 + 8, size: 8)
        put(UInt64(interpreter.utf8.count + 1), at: 64 + 32, size: 8)
        return bytes + Array(interpreter.utf8) + [0]
    }

    @Test func erlangVmNeedsGlibc() throws {
        let beams = shell("ls /usr/lib/erlang/erts-*/bin/beam.smp").output.split(separator: "\n").map { FilePath(Array($0.utf8))! }
        let beam = try #require(beams.first)
        let requirement = try LibcRequirement.examine([beam]).requirement
        #expect(requirement.libc == "gnu")
        // objdump is binutils, which scripts/install-deps installs: no answer is a failure.
        let highest = shell("objdump -T '\(beam)' | grep -o 'GLIBC_[0-9.]*' | sort -V | tail -1").output
        try #require(highest.hasPrefix("GLIBC_"), "objdump -T \(beam) listed no GLIBC_ version: \(highest)")
        #expect("GLIBC_" + (requirement.version ?? "") == highest.split(separator: "\n").first.map(String.init))
        #expect(requirement.version.map { $0.hasPrefix("2.") } == true)
    }

    @Test func listsNeededLibrariesAsTheLoaderReadsThem() throws {
        let work = TemporaryDirectory()
        try writeFile(work("script"), "#!/bin/sh\n")
        let beams = shell("ls /usr/lib/erlang/erts-*/bin/beam.smp").output.split(separator: "\n").map { FilePath(Array($0.utf8))! }
        let beam = try #require(beams.first)
        let findings = try LibcRequirement.examine([work("script"), beam])
        #expect(findings.needed.map(\.path) == [beam])
        let names = try #require(findings.needed.first).libraries.map { String(decoding: $0, as: UTF8.self) }
        #expect(names.contains("libc.so.6"))
        let readelf = shell("readelf -d '\(beam)' | sed -n 's/.*(NEEDED).*\\[\\(.*\\)\\]/\\1/p'")
        try #require(readelf.status == 0, "readelf (binutils) failed: \(readelf.output)")
        #expect(names == readelf.output.split(separator: "\n").map(String.init))
    }

    @Test func skipsNonELFAndStaticFiles() throws {
        let work = TemporaryDirectory()
        try writeFile(work("script"), "#!/bin/sh\n")
        #expect(try LibcRequirement.examine([work("script")]).requirement == .init(libc: "none", version: nil))
        // ldconfig is static on glibc systems and essential on Debian.
        try #require(FileSystem.exists(FilePath("/sbin/ldconfig")), "/sbin/ldconfig (libc-bin) is missing")
        #expect(try LibcRequirement.examine([FilePath("/sbin/ldconfig")]).requirement.libc == "none")
    }

    @Test func muslInterpreterMeansMusl() throws {
        let work = TemporaryDirectory()
        let musl = Self.elf(interpreter: "/lib/ld-musl-x86_64.so.1")
        let file = try FileDescriptor.open(work("beam.smp"), O_WRONLY | O_CREAT, mode: 0o755)
        try file.writeAll(musl)
        #expect(try LibcRequirement.examine([work("beam.smp")]).requirement == .init(libc: "musl", version: nil))
        let glibcLibraries = shell("ls /usr/lib/erlang/lib/crypto-*/priv/lib/crypto.so").output.split(separator: "\n").map { FilePath(Array($0.utf8))! }
        let crypto = try #require(glibcLibraries.first, "crypto.so is missing: scripts/install-deps installs erlang-crypto")
        #expect { try LibcRequirement.examine([work("beam.smp"), crypto]).requirement } throws: {
            ($0 as? CommandError)?.code == .unsupported
        }
    }

    @Test func damagedELFIsCorruptNotACrash() throws {
        let work = TemporaryDirectory()
        var damaged = Self.elf(interpreter: "/lib/ld-linux-x86-64.so.2")
        damaged.replaceSubrange(0x20..<0x28, with: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])
        let file = try FileDescriptor.open(work("bad"), O_WRONLY | O_CREAT, mode: 0o644)
        try file.writeAll(damaged)
        #expect { try LibcRequirement.examine([work("bad")]).requirement } throws: { ($0 as? CommandError)?.code == .corrupt }
        for length in 0..<damaged.count {
            _ = try? ELFFile.parse(Array(Self.elf(interpreter: "/x").prefix(length)))
        }
    }

    @Test func versionOrdering() {
        #expect(LibcRequirement.glibcVersion(Array("GLIBC_2.3.4".utf8)) == [2, 3, 4])
        #expect(LibcRequirement.glibcVersion(Array("GLIBC_PRIVATE".utf8)) == nil)
        #expect([2, 34].lexicographicallyPrecedes([2, 34, 1]))
        #expect([2, 9].lexicographicallyPrecedes([2, 34]))
    }
}
