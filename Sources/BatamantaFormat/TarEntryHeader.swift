public enum TarEntryKind: Equatable, Sendable {
    case file, directory, symlink
}

/// One tar entry as batamanta writes and reads it. Writing is deterministic: owner 0:0,
/// empty user/group names, directories stored with a trailing `/`.
public struct TarEntryHeader: Equatable, Sendable {
    public static let blockSize = 512

    /// Relative path without a trailing `/`.
    public var path: [UInt8]
    public var kind: TarEntryKind
    public var mode: UInt32
    public var size: UInt64
    public var mtime: UInt64
    public var linkTarget: [UInt8]

    public init(path: [UInt8], kind: TarEntryKind, mode: UInt32, size: UInt64 = 0, mtime: UInt64 = 0, linkTarget: [UInt8] = []) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.size = size
        self.mtime = mtime
        self.linkTarget = linkTarget
    }

    /// A pax `x` header (only when a value does not fit ustar) followed by the ustar block.
    /// The entry's data and its padding to 512 bytes are the caller's.
    public func encoded() -> [UInt8] {
        var storedPath = path
        if kind == .directory { storedPath.append(UInt8(ascii: "/")) }
        let split = TarEntryHeader.splitUstarPath(storedPath)
        var records: [UInt8] = []
        if split == nil { records.appendPaxRecord("path", storedPath) }
        if linkTarget.count > Ustar.linkName.count { records.appendPaxRecord("linkpath", linkTarget) }
        if size > TarEntryHeader.maxOctal11 { records.appendPaxRecord("size", decimalDigits(size)) }
        if mtime > TarEntryHeader.maxOctal11 { records.appendPaxRecord("mtime", decimalDigits(mtime)) }

        var out: [UInt8] = []
        if !records.isEmpty {
            out = TarEntryHeader.ustarBlock(
                name: Array("././@PaxHeader".utf8), prefix: [], mode: 0o644, size: UInt64(records.count),
                mtime: 0, typeflag: Ustar.Typeflag.paxExtended, linkName: [])
            out.append(contentsOf: records)
            out.append(contentsOf: [UInt8](repeating: 0, count: padding(UInt64(records.count))))
        }
        let typeflag: UInt8
        switch kind {
        case .file: typeflag = Ustar.Typeflag.file
        case .directory: typeflag = Ustar.Typeflag.directory
        case .symlink: typeflag = Ustar.Typeflag.symlink
        }
        let (prefix, name) = split ?? ([], Array(storedPath.prefix(Ustar.name.count)))
        out.append(contentsOf: TarEntryHeader.ustarBlock(
            name: name, prefix: prefix, mode: mode & 0o7777,
            size: min(kind == .file ? size : 0, TarEntryHeader.maxOctal11), mtime: min(mtime, TarEntryHeader.maxOctal11),
            typeflag: typeflag, linkName: Array(linkTarget.prefix(Ustar.linkName.count))))
        return out
    }

    static let maxOctal11: UInt64 = 0o77777777777

    /// Splits a path into ustar's prefix (≤ 155) and name (≤ 100) at a `/`, if possible.
    static func splitUstarPath(_ path: [UInt8]) -> (prefix: [UInt8], name: [UInt8])? {
        if path.count <= Ustar.name.count { return ([], path) }
        guard path.count <= Ustar.prefix.count + 1 + Ustar.name.count else { return nil }
        var index = min(Ustar.prefix.count, path.count - 1)
        while index > 0 {
            if path[index] == UInt8(ascii: "/"), path.count - index - 1 <= Ustar.name.count, index > 0 {
                let name = Array(path[(index + 1)...])
                return name.isEmpty ? nil : (Array(path[..<index]), name)
            }
            index -= 1
        }
        return nil
    }

    static func ustarBlock(
        name: [UInt8], prefix: [UInt8], mode: UInt32, size: UInt64, mtime: UInt64, typeflag: UInt8, linkName: [UInt8]
    ) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        block.put(name, in: Ustar.name)
        block.put(octal(UInt64(mode), width: Ustar.mode.count), in: Ustar.mode)
        block.put(octal(0, width: Ustar.uid.count), in: Ustar.uid)
        block.put(octal(0, width: Ustar.gid.count), in: Ustar.gid)
        block.put(octal(size, width: Ustar.size.count), in: Ustar.size)
        block.put(octal(mtime, width: Ustar.mtime.count), in: Ustar.mtime)
        block.put([UInt8](repeating: UInt8(ascii: " "), count: Ustar.checksum.count), in: Ustar.checksum)
        block[Ustar.typeflag] = typeflag
        block.put(linkName, in: Ustar.linkName)
        block.put(Ustar.magicValue, in: Ustar.magic)
        block.put(Ustar.versionValue, in: Ustar.version)
        block.put(octal(0, width: Ustar.devMajor.count), in: Ustar.devMajor)
        block.put(octal(0, width: Ustar.devMinor.count), in: Ustar.devMinor)
        block.put(prefix, in: Ustar.prefix)
        let sum = block.reduce(UInt64(0)) { $0 + UInt64($1) }
        // Six digits, NUL, space: what GNU and BSD tar write.
        var checksum = octal(sum, width: Ustar.checksum.count - 1)
        checksum.append(UInt8(ascii: " "))
        block.put(checksum, in: Ustar.checksum)
        return block
    }
}

/// Bytes of zero padding after `size` data bytes to reach a 512-byte boundary.
public func padding(_ size: UInt64) -> Int {
    Int((512 - size % 512) % 512)
}

/// Zero-padded octal digits followed by NUL, `width` bytes in all.
func octal(_ value: UInt64, width: Int) -> [UInt8] {
    var digits = [UInt8](repeating: UInt8(ascii: "0"), count: width - 1)
    var rest = value
    var index = width - 2
    while index >= 0 {
        digits[index] = UInt8(ascii: "0") + UInt8(rest & 7)
        rest >>= 3
        index -= 1
    }
    digits.append(0)
    return digits
}

func decimalDigits(_ value: UInt64) -> [UInt8] {
    var digits: [UInt8] = []
    var rest = value
    repeat {
        digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
        rest /= 10
    } while rest > 0
    return digits.reversed()
}

extension [UInt8] {
    mutating func put(_ bytes: [UInt8], in field: Range<Int>) {
        precondition(bytes.count <= field.count, "value longer than its ustar field")
        for (i, byte) in bytes.enumerated() { self[field.lowerBound + i] = byte }
    }

    /// Appends `"<len> key=value\n"` where `len` counts the whole record including itself.
    mutating func appendPaxRecord(_ key: StaticString, _ value: [UInt8]) {
        let body = key.utf8CodeUnitCount + 1 + value.count + 1
        var length = body + 1
        while decimalDigits(UInt64(length)).count + 1 + body != length {
            length = decimalDigits(UInt64(length)).count + 1 + body
        }
        append(contentsOf: decimalDigits(UInt64(length)))
        append(UInt8(ascii: " "))
        append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        append(UInt8(ascii: "="))
        append(contentsOf: value)
        append(UInt8(ascii: "\n"))
    }
}
