/// Which tar streams a reader accepts.
public enum TarDialect: Sendable {
    /// What batamanta's own writer produces; anything else is refused.
    case batamanta
    /// Archives as ordinary tools make them (GNU tar, bsdtar, erl_tar): GNU long names
    /// (`L`/`K` entries), a leading `./`, and symlinks that leave the tree, which `finish()`
    /// reports for the caller to leave out instead of refusing the archive.
    case foreign
}

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
        case extendedData(remaining: UInt64)
        case fileData(remaining: UInt64, padding: Int)
        case padding(remaining: Int)
        case secondZeroBlock
        case finished
    }

    static let maxPaxSize: UInt64 = 1 << 20

    private let dialect: TarDialect
    private var state = State.header
    private var block: [UInt8] = []
    /// The data of the pending `x`, `L` or `K` entry, which describes the next entry.
    private var extended: [UInt8] = []
    private var extendedType: UInt8 = 0
    private var paxPath: [UInt8]?
    private var paxLinkPath: [UInt8]?
    private var paxSize: UInt64?
    private var tree: TarTree

    public init(dialect: TarDialect = .batamanta) {
        self.dialect = dialect
        tree = TarTree(dialect: dialect)
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
            case .extendedData(let remaining):
                if remaining > 0 {
                    guard !input.isEmpty else { return nil }
                    let take = Int(min(remaining, UInt64(input.count)))
                    extended.append(contentsOf: input[input.startIndex..<(input.startIndex + take)])
                    input = UnsafeRawBufferPointer(rebasing: input[(input.startIndex + take)...])
                    state = .extendedData(remaining: remaining - UInt64(take))
                    continue
                }
                switch extendedType {
                case Ustar.Typeflag.gnuLongName: paxPath = cString(extended[...])
                case Ustar.Typeflag.gnuLongLink: paxLinkPath = cString(extended[...])
                default: try parsePax()
                }
                state = .padding(remaining: padding(UInt64(extended.count)))
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

    /// Fails unless the archive ended with its two zero blocks; call after the last chunk.
    /// A `.batamanta` reader also fails unless every symlink stays inside the root; a
    /// `.foreign` one returns the symlinks that do not, which must not be created.
    @discardableResult
    public func finish() throws(FormatError) -> [TarLink] {
        guard case .finished = state else { throw .corrupt(.tarTruncated) }
        switch dialect {
        case .batamanta:
            try tree.checkLinks()
            return []
        case .foreign:
            return tree.escapingLinks()
        }
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
        let gnuLongName = typeflag == Ustar.Typeflag.gnuLongName || typeflag == Ustar.Typeflag.gnuLongLink
        if typeflag == Ustar.Typeflag.paxExtended || (gnuLongName && dialect == .foreign) {
            guard size <= TarReader.maxPaxSize else { throw .corrupt(.tarPax) }
            extended.removeAll(keepingCapacity: true)
            extendedType = typeflag
            state = .extendedData(remaining: size)
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

        if dialect == .foreign {
            while path.count >= 2, path[0] == UInt8(ascii: "."), path[1] == UInt8(ascii: "/") {
                path.removeFirst(2)
                while path.first == UInt8(ascii: "/") { path.removeFirst() }
            }
            // `tar -C dir .` stores the root itself as `./`: the extraction root exists.
            if kind == .directory, path.isEmpty || path == [UInt8(ascii: ".")] {
                state = .header
                return nil
            }
        }
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
        while start < extended.count {
            var index = start
            var length = 0
            while index < extended.count, extended[index] >= UInt8(ascii: "0"), extended[index] <= UInt8(ascii: "9"), length < 1 << 21 {
                length = length * 10 + Int(extended[index] - UInt8(ascii: "0"))
                index += 1
            }
            let end = start + length
            guard index > start, index < extended.count, extended[index] == UInt8(ascii: " "), end <= extended.count, end > index + 1,
                extended[end - 1] == UInt8(ascii: "\n")
            else { throw .corrupt(.tarPax) }
            let record = extended[(index + 1)..<(end - 1)]
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
