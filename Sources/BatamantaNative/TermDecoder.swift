import CErlInterface

struct TermDecodingError: Error, Equatable {
    var message: String
}

/// Decodes one external-term-format message with libei.
///
/// libei trusts its input: its decoders take no buffer length. So every length libei
/// reports is checked against the real message size before libei may read that far,
/// and the buffer carries zeroed slack so fixed-size headers never read past the end.
struct TermDecoder {
    private static let slack = 64
    private static let maximumDepth = 256
    /// MAXATOMLEN_UTF8 in ei.h (255 characters of up to 4 bytes, plus NUL); a macro
    /// expression, so Swift cannot import it.
    private static let atomCapacity = 255 * 4 + 1

    private let buffer: [CChar]
    private let length: Int32
    private var index: Int32 = 0

    static func decode(_ message: [UInt8]) throws(TermDecodingError) -> Term {
        var decoder = TermDecoder(message)
        return try decoder.decodeMessage()
    }

    private init(_ message: [UInt8]) {
        var padded = message.map { CChar(bitPattern: $0) }
        padded.append(contentsOf: repeatElement(0, count: TermDecoder.slack))
        buffer = padded
        length = Int32(clamping: message.count)
    }

    private mutating func decodeMessage() throws(TermDecodingError) -> Term {
        guard Int(length) == buffer.count - TermDecoder.slack else {
            throw TermDecodingError(message: "message of \(buffer.count - TermDecoder.slack) bytes is too large")
        }
        guard length > 0 else { throw TermDecodingError(message: "empty message") }
        var version: Int32 = 0
        guard call({ ei_decode_version($0, &$1, &version) }) else {
            throw TermDecodingError(message: "message does not start with the external term format version byte 131")
        }
        let term = try decodeTerm(depth: 0)
        guard index == length else {
            throw TermDecodingError(message: "\(length - index) trailing bytes after the term")
        }
        return term
    }

    private mutating func decodeTerm(depth: Int) throws(TermDecodingError) -> Term {
        guard depth < TermDecoder.maximumDepth else {
            throw TermDecodingError(message: "term nested deeper than \(TermDecoder.maximumDepth) levels")
        }
        guard index < length else { throw truncated }
        var type: Int32 = 0
        var size: Int32 = 0
        let position = index
        guard buffer.withUnsafeBufferPointer({ ei_get_type($0.baseAddress, [position], &type, &size) }) == 0,
              size >= 0
        else {
            throw TermDecodingError(message: "unreadable term at byte \(index)")
        }
        // Variable-length payloads must fit in what is left; the slack covers headers.
        guard Int64(index) + Int64(size) <= Int64(length) else { throw truncated }

        switch UInt8(truncatingIfNeeded: type) {
        case UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "n"), UInt8(ascii: "o"):
            return try decodeInteger(byteCount: size)
        case UInt8(ascii: "c"), UInt8(ascii: "F"):
            var value = 0.0
            try expect(call { ei_decode_double($0, &$1, &value) }, "float")
            return .float(value)
        case UInt8(ascii: "d"), UInt8(ascii: "s"), UInt8(ascii: "v"), UInt8(ascii: "w"):
            return try decodeAtom()
        case UInt8(ascii: "m"):
            var bytes = [UInt8](repeating: 0, count: Int(size))
            var count = 0
            try expect(bytes.withUnsafeMutableBytes { out in call { ei_decode_binary($0, &$1, out.baseAddress, &count) } }, "binary")
            return .binary(bytes)
        case UInt8(ascii: "k"):
            var chars = [CChar](repeating: 0, count: Int(size) + 1)
            try expect(chars.withUnsafeMutableBufferPointer { out in call { ei_decode_string($0, &$1, out.baseAddress) } }, "string")
            return .charList(chars.dropLast().map { UInt8(bitPattern: $0) })
        case UInt8(ascii: "j"), UInt8(ascii: "l"):
            return try decodeList(depth: depth)
        case UInt8(ascii: "h"), UInt8(ascii: "i"):
            var arity: Int32 = 0
            try expect(call { ei_decode_tuple_header($0, &$1, &arity) }, "tuple")
            var elements: [Term] = []
            for _ in 0..<max(arity, 0) { elements.append(try decodeTerm(depth: depth + 1)) }
            return .tuple(elements)
        case UInt8(ascii: "t"):
            var arity: Int32 = 0
            try expect(call { ei_decode_map_header($0, &$1, &arity) }, "map")
            var entries: [Term.MapEntry] = []
            for _ in 0..<max(arity, 0) {
                let key = try decodeTerm(depth: depth + 1)
                let value = try decodeTerm(depth: depth + 1)
                entries.append(Term.MapEntry(key: key, value: value))
            }
            return .map(entries)
        default:
            throw TermDecodingError(
                message: "unsupported term type \(type) at byte \(index) (pids, references, funs and bitstrings cannot be sent)")
        }
    }

    private mutating func decodeInteger(byteCount: Int32) throws(TermDecodingError) -> Term {
        var value: Int64 = 0
        if call({ ei_decode_longlong($0, &$1, &value) }) { return .integer(value) }
        guard let big = ei_alloc_big(UInt32(byteCount)) else {
            throw TermDecodingError(message: "out of memory decoding a \(byteCount)-byte integer")
        }
        defer { ei_free_big(big) }
        try expect(call { ei_decode_big($0, &$1, big) }, "integer")
        let words = big.pointee.digits.assumingMemoryBound(to: UInt16.self)
        var magnitude: [UInt8] = []
        for byteIndex in 0..<Int(big.pointee.arity) {
            magnitude.append(UInt8(truncatingIfNeeded: words[byteIndex / 2] >> (byteIndex % 2 == 0 ? 0 : 8)))
        }
        while magnitude.last == 0 { magnitude.removeLast() }
        return .bigInteger(isNegative: big.pointee.is_neg != 0, magnitude: magnitude)
    }

    private mutating func decodeAtom() throws(TermDecodingError) -> Term {
        var name = [CChar](repeating: 0, count: TermDecoder.atomCapacity)
        let capacity = Int32(name.count)
        let decoded = name.withUnsafeMutableBufferPointer { out in
            call { ei_decode_atom_as($0, &$1, out.baseAddress, capacity, ERLANG_UTF8, nil, nil) }
        }
        try expect(decoded, "atom")
        let bytes = name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return .atom(String(decoding: bytes, as: UTF8.self))
    }

    private mutating func decodeList(depth: Int) throws(TermDecodingError) -> Term {
        var arity: Int32 = 0
        try expect(call { ei_decode_list_header($0, &$1, &arity) }, "list")
        guard arity > 0 else { return .list([]) }
        var elements: [Term] = []
        for _ in 0..<arity { elements.append(try decodeTerm(depth: depth + 1)) }
        guard index < length else { throw truncated }
        var tailArity: Int32 = -1
        guard call({ ei_decode_list_header($0, &$1, &tailArity) }), tailArity == 0 else {
            throw TermDecodingError(message: "improper list at byte \(index)")
        }
        return .list(elements)
    }

    /// Runs one libei decoder at the current position; advances only when it succeeds
    /// and stayed inside the message.
    private mutating func call(_ decode: (UnsafePointer<CChar>, inout Int32) -> Int32) -> Bool {
        var next = index
        let status = buffer.withUnsafeBufferPointer { pointer -> Int32 in
            guard let base = pointer.baseAddress else { return -1 }
            return decode(base, &next)
        }
        guard status == 0, next <= length, next >= index else { return false }
        index = next
        return true
    }

    private func expect(_ succeeded: Bool, _ kind: String) throws(TermDecodingError) {
        if !succeeded { throw TermDecodingError(message: "malformed \(kind) at byte \(index)") }
    }

    private var truncated: TermDecodingError {
        TermDecodingError(message: "message truncated at byte \(index) of \(length)")
    }
}
