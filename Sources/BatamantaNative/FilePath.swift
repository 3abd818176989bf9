/// A path as the bytes Linux stores. Names need not be UTF-8, and tar entries and port
/// messages carry them as binaries, so they are never forced through `String`. Checked
/// once, when made: a FilePath is never empty and holds no NUL, so every system call can
/// take it as it is.
struct FilePath: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    private(set) var bytes: [UInt8]

    /// Nil for what no system call accepts: an empty path, or one containing NUL.
    init?(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, !bytes.contains(0) else { return nil }
        self.bytes = bytes
    }

    /// A path spelled in the source, such as "/proc/self/maps".
    init(stringLiteral literal: StaticString) {
        self.init(unchecked: Array(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)))
    }

    private init(unchecked bytes: [UInt8]) {
        precondition(!bytes.isEmpty && !bytes.contains(0), "a FilePath is never empty and holds no NUL")
        self.bytes = bytes
    }

    /// `component` comes from a directory listing or a checked tar path, so it has no NUL.
    func appending(_ component: [UInt8]) -> FilePath {
        var joined = bytes
        if joined.last != UInt8(ascii: "/") { joined.append(UInt8(ascii: "/")) }
        joined.append(contentsOf: component)
        return FilePath(unchecked: joined)
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
        guard let slash = trimmed.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        return slash == 0 ? "/" : FilePath(unchecked: Array(trimmed[..<slash]))
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
