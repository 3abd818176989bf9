/// The args map of a request, read with the protocol's rules: atom keys, binaries for
/// strings and paths; unknown keys are ignored, a missing or mistyped required key is an
/// `:invalid_argument` error naming the command and the key.
struct Arguments {
    private let map: Term
    let command: String

    init(_ map: Term, command: String) {
        self.map = map
        self.command = command
    }

    /// Absent and `nil` are the same: Elixir callers write `sha256: nil`.
    func value(_ key: String) -> Term? {
        let value = map.value(forAtomKey: key)
        return value == .nil ? nil : value
    }

    func bytes(_ key: String) throws(CommandError) -> [UInt8] {
        guard let value = value(key) else { throw missing(key) }
        guard case .binary(let bytes) = value else { throw wrongType(key, "a binary") }
        return bytes
    }

    func optionalBytes(_ key: String) throws(CommandError) -> [UInt8]? {
        guard value(key) != nil else { return nil }
        return try bytes(key)
    }

    func string(_ key: String) throws(CommandError) -> String {
        String(decoding: try bytes(key), as: UTF8.self)
    }

    func path(_ key: String) throws(CommandError) -> FilePath {
        try Arguments.path(try bytes(key), key: key, command: command)
    }

    func optionalPath(_ key: String) throws(CommandError) -> FilePath? {
        guard value(key) != nil else { return nil }
        return try path(key)
    }

    func integer(_ key: String, in range: ClosedRange<Int64>) throws(CommandError) -> Int64 {
        guard let value = value(key) else { throw missing(key) }
        guard case .integer(let number) = value else { throw wrongType(key, "an integer") }
        guard range.contains(number) else {
            throw .invalidArgument(":\(command) needs \(key) between \(range.lowerBound) and \(range.upperBound), got \(number)")
        }
        return number
    }

    func bool(_ key: String, default defaultValue: Bool) throws(CommandError) -> Bool {
        switch value(key) {
        case nil: return defaultValue
        case .true?: return true
        case .false?: return false
        default: throw wrongType(key, "a boolean")
        }
    }

    func list(_ key: String, required: Bool = true) throws(CommandError) -> [Term] {
        guard let value = value(key) else {
            if required { throw missing(key) }
            return []
        }
        guard let elements = value.listElements else { throw wrongType(key, "a list") }
        return elements
    }

    func paths(_ key: String, required: Bool = true) throws(CommandError) -> [FilePath] {
        var paths: [FilePath] = []
        for element in try list(key, required: required) {
            guard case .binary(let bytes) = element else { throw wrongType(key, "a list of binaries") }
            paths.append(try Arguments.path(bytes, key: key, command: command))
        }
        return paths
    }

    /// `[{name, value}]` with binary (or atom) names and binary values.
    func pairs(_ key: String, required: Bool = true) throws(CommandError) -> [(name: [UInt8], value: [UInt8])] {
        var pairs: [(name: [UInt8], value: [UInt8])] = []
        for element in try list(key, required: required) {
            guard case .tuple(let items) = element, items.count == 2 else {
                throw wrongType(key, "a list of {name, value} tuples")
            }
            let name: [UInt8]
            switch items[0] {
            case .binary(let bytes): name = bytes
            case .atom(let atom): name = Array(atom.utf8)
            default: throw wrongType(key, "a list of {name, value} tuples with binary names")
            }
            guard case .binary(let value) = items[1] else {
                throw wrongType(key, "a list of {name, value} tuples with binary values")
            }
            pairs.append((name: name, value: value))
        }
        return pairs
    }

    private static func path(_ bytes: [UInt8], key: String, command: String) throws(CommandError) -> FilePath {
        guard let path = FilePath(bytes) else { throw .invalidArgument(":\(command) got an empty path or one containing NUL in \(key)") }
        return path
    }

    private func missing(_ key: String) -> CommandError {
        .invalidArgument(":\(command) needs the argument \(key)")
    }

    private func wrongType(_ key: String, _ expected: String) -> CommandError {
        .invalidArgument(":\(command) needs \(key) to be \(expected)")
    }
}
