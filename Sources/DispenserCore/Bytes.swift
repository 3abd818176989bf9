import CLibc

// Paths, names and messages are byte arrays throughout: no String, so no Unicode tables
// in the binary and no decoding of file names that are not UTF-8.

let slash = UInt8(ascii: "/")

func bytes(_ text: StaticString) -> [UInt8] {
    Array(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
}

func cBytes(_ pointer: UnsafePointer<CChar>) -> [UInt8] {
    Array(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
}

func joined(_ parts: [UInt8]...) -> [UInt8] {
    joined(parts)
}

func joined(_ parts: [[UInt8]]) -> [UInt8] {
    var result: [UInt8] = []
    for part in parts { result.append(contentsOf: part) }
    return result
}

/// The target of the symlink at `path`, or nil when it cannot be read.
func linkTarget(_ path: [UInt8]) -> [UInt8]? {
    var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX))
    let count = buffer.withUnsafeMutableBytes { raw in
        withCPath(path) { readlink($0, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count) }
    }
    return count > 0 ? Array(buffer[0..<count]) : nil
}

/// 16 lowercase hex digits from the kernel's random source, for private temp names.
func randomSuffix() -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: 8)
    bytes.withUnsafeMutableBytes { Platform.fillRandom($0) }
    return hexDigits(bytes)
}

/// Calls `body` with a NUL-terminated copy of `path`.
func withCPath<R>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
    var terminated = path
    terminated.append(0)
    return terminated.withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
    }
}
