import Testing
@testable import BatamantaNative

@Suite struct HostInfoTests {
    static let muslLdd = """
        #!/bin/sh
        echo 'musl libc (x86_64)' >&2
        echo 'Version 1.2.4' >&2
        echo 'Dynamic Program Loader' >&2
        exit 1
        """
    static let glibcLdd = """
        #!/bin/sh
        echo 'ldd (Ubuntu GLIBC 2.35-0ubuntu3.6) 2.35'
        echo 'Copyright (C) 2022 Free Software Foundation, Inc.'
        """

    func detect(_ root: TemporaryDirectory) -> LibcDetection {
        LibcDetector(root: root.path).detect()
    }

    @Test func alpineLikeRootAnswersAtEachLevel() throws {
        let root = TemporaryDirectory()
        try writeFile(root("etc/os-release"), "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n")
        #expect(detect(root) == LibcDetection(family: .musl, version: nil, source: .osRelease, note: nil))
        try writeFile(root("lib/ld-musl-x86_64.so.1"), "")
        #expect(detect(root) == LibcDetection(family: .musl, version: nil, source: .loader, note: nil))
        try writeFile(root("usr/bin/ldd"), Self.muslLdd, mode: 0o755)
        #expect(detect(root) == LibcDetection(family: .musl, version: "1.2.4", source: .ldd, note: nil))
    }

    @Test func debianLikeRootAnswersAtEachLevel() throws {
        let root = TemporaryDirectory()
        try writeFile(root("etc/os-release"), "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n")
        #expect(detect(root) == LibcDetection(family: .gnu, version: nil, source: .osRelease, note: nil))
        try writeFile(root("lib64/ld-linux-x86-64.so.2"), "")
        #expect(detect(root) == LibcDetection(family: .gnu, version: nil, source: .loader, note: nil))
        try writeFile(root("bin/ldd"), Self.glibcLdd, mode: 0o755)
        #expect(detect(root) == LibcDetection(family: .gnu, version: "2.35", source: .ldd, note: nil))
    }

    @Test func ubuntuDerivativeIsKnownThroughIDLike() throws {
        let root = TemporaryDirectory()
        try writeFile(root("usr/lib/os-release"), "ID=neon\nID_LIKE='ubuntu debian'\n")
        #expect(detect(root).source == .osRelease)
        #expect(detect(root).family == .gnu)
    }

    @Test func bothLoadersAreNotAClearAnswer() throws {
        let root = TemporaryDirectory()
        try writeFile(root("lib/ld-musl-x86_64.so.1"), "")
        try writeFile(root("lib64/ld-linux-x86-64.so.2"), "")
        try writeFile(root("etc/os-release"), "ID=debian\n")
        #expect(detect(root).source == .osRelease)
    }

    @Test func emptyRootDefaultsToGlibcWithANote() {
        let root = TemporaryDirectory()
        let detection = detect(root)
        #expect(detection.family == .gnu && detection.source == .default && detection.version == nil)
        #expect(detection.note?.contains(root.description) == true)
    }

    @Test func realRootIsThisMachine() {
        let detection = LibcDetector(root: FilePath("/")).detect()
        #expect(detection.family == .gnu)
        #expect(detection.source == .ldd)
        #expect(detection.version == LibcDetector.runningGlibcVersion)
        #expect(LibcDetector.parseMaps(Array("7f00 r-xp /usr/lib/x86_64-linux-gnu/libc.so.6\n".utf8))?.family == .gnu)
        #expect(LibcDetector.parseMaps(Array("7f00 r-xp /lib/ld-musl-aarch64.so.1\n".utf8))?.family == .musl)
    }

    @Test func resultMapHasEveryField() throws {
        let root = TemporaryDirectory()
        let result = try HostInfo.run(Arguments(.record(["root": .string(root.description)]), command: "host_info"), .ignored)
        for key in ["os", "arch", "libc", "libc_version", "libc_source", "note"] {
            #expect(result.value(forAtomKey: key) != nil, "missing \(key)")
        }
        #expect(result.value(forAtomKey: "os") == .string("linux"))
        #expect(result.value(forAtomKey: "libc_version") == .nil)
        #expect(Platform.normalizedArch("arm64") == "aarch64")
    }
}
