import CLibc

/// Checks, before extracting, that this host can run the embedded ERTS and load the
/// payload's NIFs, so users get one readable line instead of a dynamic loader error. The
/// dispenser itself is static, so the host's libc and libraries are found on disk rather
/// than asked. Runs on the cold path only: a warm start means the check already passed on
/// this host.
enum Preflight {
    struct Version: Comparable {
        var major: Int
        var minor: Int
        static func < (a: Version, b: Version) -> Bool { (a.major, a.minor) < (b.major, b.minor) }
        var text: [UInt8] { joined(decimalDigits(UInt64(major)), [UInt8(ascii: ".")], decimalDigits(UInt64(minor))) }
    }

    enum HostLibc {
        case glibc(Version)
        case musl
        case unknown
    }

    /// `libc` is the metadata `libc` value (`gnu 2.34`, `musl` or `none`), `needs` the
    /// `needs` values (`libcrypto.so.3`).
    static func check(libc: [UInt8]?, needs: [[UInt8]], executable: [UInt8]) throws(Failure) {
        try check(libc, executable: executable)
        guard let missing = SystemLibraries.firstMissing(needs) else { return }
        throw Failure(.hostUnsupported, path: executable, text: joined(
            Array("this binary needs ".utf8), missing, Array(", which this system does not have".utf8)))
    }

    private static func check(_ requirement: [UInt8]?, executable: [UInt8]) throws(Failure) {
        guard let requirement, requirement != Array("none".utf8) else { return }
        let host = detectHost()
        if requirement == Array("musl".utf8) {
            if case .musl = host { return }
            throw Failure(.hostUnsupported, path: executable, text: joined(Array("this binary needs musl, this system has ".utf8), describe(host)))
        }
        guard requirement.starts(with: "gnu ".utf8), let needed = parseVersion(Array(requirement.dropFirst(4))) else {
            throw Failure(.corruptPayload, path: executable, "corrupt metadata: bad libc requirement", detail: requirement)
        }
        if case .glibc(let version) = host, version >= needed { return }
        throw Failure(.hostUnsupported, path: executable, text: joined(
            Array("this binary needs glibc >= ".utf8), needed.text, Array(", this system has ".utf8), describe(host)))
    }

    private static func describe(_ host: HostLibc) -> [UInt8] {
        switch host {
        case .glibc(let version): return joined(Array("glibc ".utf8), version.text)
        case .musl: return Array("musl".utf8)
        case .unknown: return Array("no recognizable libc".utf8)
        }
    }

    static func detectHost() -> HostLibc {
        for directory in bytes(SystemLibraries.defaultPath).split(separator: UInt8(ascii: ":")) {
            if let version = highestGlibcVersion(in: joined(Array(directory), Array("/libc.so.6".utf8))) { return .glibc(version) }
        }
        if case .success = FileDescriptor.currentDirectory.status(of: bytes(SystemLibraries.muslLoader)) { return .musl }
        return .unknown
    }

    /// The highest `GLIBC_x.y` version definition in the library's bytes. Scanning is
    /// cruder than walking the ELF verdef table but cannot be confused by its layout, and
    /// glibc defines every version it supports.
    private static func highestGlibcVersion(in path: [UInt8]) -> Version? {
        guard case .success(let file) = FileDescriptor.currentDirectory.open(path, O_RDONLY) else { return nil }
        defer { file.close() }
        let tag: [UInt8] = Array("GLIBC_".utf8)
        let overlap = 16
        var best: Version?
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var offset: UInt64 = 0
        var carried = 0
        while true {
            let result = buffer.withUnsafeMutableBytes { file.read(fromAbsoluteOffset: offset, into: UnsafeMutableRawBufferPointer(rebasing: $0[carried...])) }
            guard case .success(let count) = result, count > 0 else { break }
            offset += UInt64(count)
            let filled = carried + count
            var index = 0
            while index + tag.count < filled {
                if buffer[index] == tag[0], buffer[index..<(index + tag.count)].elementsEqual(tag),
                    let version = parseVersion(Array(buffer[(index + tag.count)..<min(filled, index + tag.count + overlap - tag.count)]))
                {
                    if best.map({ $0 < version }) ?? true { best = version }
                }
                index += 1
            }
            carried = min(overlap, filled)
            for i in 0..<carried { buffer[i] = buffer[filled - carried + i] }
        }
        return best
    }

    /// `2.34` from the front of `text`; stops at the first byte that is neither digit nor `.`.
    private static func parseVersion(_ text: [UInt8]) -> Version? {
        var numbers: [Int] = [0]
        var sawDigit = false
        for byte in text {
            if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), numbers[numbers.count - 1] < 100_000 {
                numbers[numbers.count - 1] = numbers[numbers.count - 1] * 10 + Int(byte - UInt8(ascii: "0"))
                sawDigit = true
            } else if byte == UInt8(ascii: "."), sawDigit, numbers.count < 3 {
                numbers.append(0)
                sawDigit = false
            } else {
                break
            }
        }
        guard numbers.count >= 2, sawDigit || numbers.count > 2 else { return nil }
        return Version(major: numbers[0], minor: numbers[1])
    }
}
