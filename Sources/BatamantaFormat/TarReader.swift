public enum TarEvent {
    /// A new entry; its path is normalized (relative, no trailing `/`) and already checked.
    case entryStart(TarEntryHeader)
    /// Some of the current file's bytes. Valid only until the next call to `next`.
    case data(UnsafeRawBufferPointer)
    case entryEnd
}

/// A push parser for the tar subset of docs/FORMAT.md. Feed it decompressed chunks of any
/// size and drain events; it buffers at most one header block (plus a bounded pax header),
/// never file contents.
///
///     var input = UnsafeRawBufferPointer(chunk)
///     while let event = try reader.next(&input) { ... }
///     ...
///     try reader.finish()
public struct TarReader {
    private enum State {
        case header
        case paxData(remaining: UInt64)
        case fileData(remaining: UInt64, padding: Int)
        case padding(remaining: Int)
        case secondZeroBlock
        case finished
    }

    static let maxPaxSize: UInt64 = 1 << 20

    private var state = State.header
    private var block: [UInt8] = []
    private var pax: [UInt8] = []
    private var paxPath: [UInt8]?
    private var paxLinkPath: [UInt8]?
    private var paxSize: UInt64?
    private var tree = TarTree()

    public init() {
        block.reserveCapacity(TarEntryHeader.blockSize)
    }

    /// Returns the next event, consuming bytes from the front of `input`, or nil when
    /// `input` is exhausted and more bytes are needed.
    public mutating func next(_ input: inout UnsafeRawBufferPointer) throws(FormatError) -> TarEvent? {
        while true {
            switch state {
            case .header:
                guard fillBlock(&input) else { return nil }
                if let event = try consumeHeader() { return event }
            case .paxData(let remaining):
                if remaining > 0 {
                    guard !input.isEmpty else { return nil }
                    let take = Int(min(remaining, UInt64(input.count)))
                    pax.append(contentsOf: input[input.startIndex..<(input.startIndex + take)])
                    input = UnsafeRawBufferPointer(rebasing: input[(input.startIndex + take)...])
                    state = .paxData(remaining: remaining - UInt64(take))
                    continue
                }
                try parsePax()
                state = .padding(remaining: padding(UInt64(pax.count)))
            case .fileData(let remaining, let pad):
                if remaining == 0 {
                    state = .padding(remaining: pad)
                    return .entryEnd
                }
                guard !input.isEmpty else { return nil }
                let take = Int(min(remaining, UInt64(input.count)))
                let bytes = UnsafeRawBufferPointer(rebasing: input[input.startIndex..<(input.startIndex + take)])
                input = UnsafeRawBufferPointer(rebasing: input[(input.startIndex + take)...])
                state = .fileData(remaining: remaining - UInt64(take), padding: pad)
                return .data(bytes)
            case .padding(let remaining):
                if remaining == 0 {
                    state = .header
                    continue
                }
                guard !input.isEmpty else { return nil }
                let take = min(remaining, input.count)
                input = UnsafeRawBufferPointer(rebasing: input[(input.startIndex + take)...])
                state = .padding(remaining: remaining - take)
            case .secondZeroBlock:
                guard fillBlock(&input) else { return nil }
                guard isZero(block) else { throw .corrupt(.tarTrailingData) }
                block.removeAll(keepingCapacity: true)
                state = .finished
            case .finished:
                // tar pads archives to its record size with zeros; anything else is not ours.
                guard input.allSatisfy({ $0 == 0 }) else { throw .corrupt(.tarTrailingData) }
                input = UnsafeRawBufferPointer(rebasing: input[input.endIndex...])
                return nil
            }
        }
    }

    /// Fails unless the archive ended with its two zero blocks and every symlink stays
    /// inside the root; call after the last chunk.
    public func finish() throws(FormatError) {
        guard case .finished = state else { throw .corrupt(.tarTruncated) }
        try tree.checkLinks()
    }

    private mutating func fillBlock(_ input: inout UnsafeRawBufferPointer) -> Bool {
        let take = min(TarEntryHeader.blockSize - block.count, input.count)
        block.append(contentsOf: input[input.startIndex..<(input.startIndex + take)])
        input = UnsafeRawBufferPointer(rebasing: input[(input.startIndex + take)...])
        return block.count == TarEntryHeader.blockSize
    }

    private mutating func consumeHeader() throws(FormatError) -> TarEvent? {
        let header = block
        block.removeAll(keepingCapacity: true)
        if isZero(header) {
            guard paxPath == nil, paxLinkPath == nil, paxSize == nil else { throw .corrupt(.tarPax) }
            state = .secondZeroBlock
            return nil
        }
        // Only "ustar": GNU tar writes "ustar " where POSIX has "ustar\0".
        guard header[Ustar.magic].starts(with: "ustar".utf8) else { throw .corrupt(.tarMagic) }
        let storedChecksum = try parseOctal(header[Ustar.checksum])
        var sum: UInt64 = 0
        for (index, byte) in header.enumerated() {
            sum += Ustar.checksum.contains(index) ? UInt64(UInt8(ascii: " ")) : UInt64(byte)
        }
        guard sum == storedChecksum else { throw .corrupt(.tarChecksum) }

        let typeflag = header[Ustar.typeflag]
        var size = try parseOctal(header[Ustar.size])
        if let long = paxSize { size = long }
        if typeflag == Ustar.Typeflag.paxExtended {
            guard size <= TarReader.maxPaxSize else { throw .corrupt(.tarPax) }
            pax.removeAll(keepingCapacity: true)
            state = .paxData(remaining: size)
            return nil
        }
        let kind: TarEntryKind
        switch typeflag {
        case Ustar.Typeflag.file, Ustar.Typeflag.oldFile: kind = .file
        case Ustar.Typeflag.directory: kind = .directory
        case Ustar.Typeflag.symlink: kind = .symlink
        default: throw .corrupt(.tarEntryType)
        }
        guard kind == .file || size == 0 else { throw .corrupt(.tarEntrySize) }

        var path: [UInt8]
        if let long = paxPath {
            path = long
        } else {
            path = []
            let prefix = cString(header[Ustar.prefix])
            if !prefix.isEmpty {
                path = prefix
                path.append(UInt8(ascii: "/"))
            }
            path.append(contentsOf: cString(header[Ustar.name]))
        }
        let linkTarget = kind == .symlink ? (paxLinkPath ?? cString(header[Ustar.linkName])) : []
        paxPath = nil
        paxLinkPath = nil
        paxSize = nil

        let normalized = try tree.admit(path, kind: kind, linkTarget: linkTarget)
        let entry = TarEntryHeader(
            path: normalized, kind: kind, mode: UInt32(try parseOctal(header[Ustar.mode]) & 0o7777),
            size: size, mtime: try parseOctal(header[Ustar.mtime]), linkTarget: linkTarget)
        state = .fileData(remaining: size, padding: padding(size))
        return .entryStart(entry)
    }

    /// Parses `"<len> key=value\n"` records; only path, linkpath and size matter to us.
    private mutating func parsePax() throws(FormatError) {
        var start = 0
        while start < pax.count {
            var index = start
            var length = 0
            while index < pax.count, pax[index] >= UInt8(ascii: "0"), pax[index] <= UInt8(ascii: "9"), length < 1 << 21 {
                length = length * 10 + Int(pax[index] - UInt8(ascii: "0"))
                index += 1
            }
            let end = start + length
            guard index > start, index < pax.count, pax[index] == UInt8(ascii: " "), end <= pax.count, end > index + 1,
                pax[end - 1] == UInt8(ascii: "\n")
            else { throw .corrupt(.tarPax) }
            let record = pax[(index + 1)..<(end - 1)]
            guard let equals = record.firstIndex(of: UInt8(ascii: "=")) else { throw .corrupt(.tarPax) }
            let key = record[record.startIndex..<equals]
            let value = Array(record[(equals + 1)...])
            if key.elementsEqual("path".utf8) {
                guard !value.contains(0) else { throw .corrupt(.tarPax) }
                paxPath = value
            } else if key.elementsEqual("linkpath".utf8) {
                guard !value.contains(0) else { throw .corrupt(.tarPax) }
                paxLinkPath = value
            } else if key.elementsEqual("size".utf8) {
                guard let size = decimalValue(value, maxDigits: 19) else { throw .corrupt(.tarPax) }
                paxSize = size
            }
            start = end
        }
    }
}

private func isZero(_ bytes: [UInt8]) -> Bool {
    bytes.allSatisfy { $0 == 0 }
}

private func cString(_ field: ArraySlice<UInt8>) -> [UInt8] {
    Array(field.prefix { $0 != 0 })
}

/// ustar numbers: optional leading spaces, octal digits, then NUL/space padding.
/// base-256 (GNU) is refused: our writer uses pax for anything large.
private func parseOctal(_ field: ArraySlice<UInt8>) throws(FormatError) -> UInt64 {
    var index = field.startIndex
    while index < field.endIndex, field[index] == UInt8(ascii: " ") { index += 1 }
    var value: UInt64 = 0
    while index < field.endIndex, field[index] >= UInt8(ascii: "0"), field[index] <= UInt8(ascii: "7") {
        guard value >> 60 == 0 else { throw .corrupt(.tarNumber) }
        value = value << 3 | UInt64(field[index] - UInt8(ascii: "0"))
        index += 1
    }
    while index < field.endIndex {
        guard field[index] == 0 || field[index] == UInt8(ascii: " ") else { throw .corrupt(.tarNumber) }
        index += 1
    }
    return value
}
