/// A path as the bytes Linux stores. Names need not be UTF-8, and tar entries and port
/// messages carry them as binaries, so they are never forced through `String`.
struct FilePath: Hashable, Sendable, CustomStringConvertible {
    private(set) var bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    init(_ text: String) {
        self.bytes = Array(text.utf8)
    }

    /// Paths with NUL cannot reach the kernel; callers reject them at the boundary.
    var isValid: Bool { !bytes.isEmpty && !bytes.contains(0) }

    func appending(_ component: [UInt8]) -> FilePath {
        guard !bytes.isEmpty else { return FilePath(component) }
        var joined = bytes
        if joined.last != UInt8(ascii: "/") { joined.append(UInt8(ascii: "/")) }
        joined.append(contentsOf: component)
        return FilePath(joined)
    }

    func appending(_ component: String) -> FilePath {
        appending(Array(component.utf8))
    }

    /// `bytes` without trailing slashes, except a lone "/".
    static func trimmingTrailingSlashes(_ bytes: [UInt8]) -> [UInt8] {
        var trimmed = bytes
        while trimmed.count > 1 && trimmed.last == UInt8(ascii: "/") { trimmed.removeLast() }
        return trimmed
    }

    /// The directory part; "." for a bare name.
    var parent: FilePath {
        let trimmed = FilePath.trimmingTrailingSlashes(bytes)
        guard let slash = trimmed.lastIndex(of: UInt8(ascii: "/")) else { return FilePath(".") }
        return slash == 0 ? FilePath("/") : FilePath(Array(trimmed[..<slash]))
    }

    var lastComponent: [UInt8] {
        let trimmed = FilePath.trimmingTrailingSlashes(bytes)
        guard let slash = trimmed.lastIndex(of: UInt8(ascii: "/")) else { return trimmed }
        return Array(trimmed[(slash + 1)...])
    }

    var description: String { String(decoding: bytes, as: UTF8.self) }

    func withCString<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        var terminated = bytes.map { CChar(bitPattern: $0) }
        terminated.append(0)
        return try terminated.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }
}
