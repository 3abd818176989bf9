/// An Erlang term as it crosses the port. Only the types the protocol can carry are
/// modelled; pids, refs, funs and bitstrings are rejected when decoding.
enum Term: Equatable, Sendable {
    case atom(String)
    case integer(Int64)
    /// Integers outside Int64: sign plus magnitude as little-endian bytes.
    case bigInteger(isNegative: Bool, magnitude: [UInt8])
    case float(Double)
    case binary([UInt8])
    /// A proper list. `[]` is `.list([])`.
    case list([Term])
    /// A list of bytes sent compactly (STRING_EXT), as `~c"abc"` or `[1, 2, 3]` may be.
    case charList([UInt8])
    case tuple([Term])
    case map([MapEntry])

    struct MapEntry: Equatable, Sendable {
        var key: Term
        var value: Term
    }
}

extension Term {
    static let `nil` = Term.atom("nil")
    static let `true` = Term.atom("true")
    static let `false` = Term.atom("false")

    /// An Elixir string (a UTF-8 binary).
    static func string(_ text: String) -> Term {
        .binary(Array(text.utf8))
    }

    static func string(_ text: String?) -> Term {
        text.map(Term.string) ?? .nil
    }

    static func integer(clamping value: some BinaryInteger) -> Term {
        .integer(Int64(clamping: value))
    }

    /// A map with atom keys, the shape of every result in docs/PROTOCOL.md.
    static func record(_ fields: KeyValuePairs<String, Term>) -> Term {
        .map(fields.map { MapEntry(key: .atom($0.key), value: $0.value) })
    }

    /// The elements of a list, whichever encoding the sender chose.
    var listElements: [Term]? {
        switch self {
        case .list(let elements): return elements
        case .charList(let bytes): return bytes.map { .integer(Int64($0)) }
        default: return nil
        }
    }

    func value(forAtomKey key: String) -> Term? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == .atom(key) }?.value
    }
}
