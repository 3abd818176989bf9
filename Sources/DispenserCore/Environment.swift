import CLibc

/// The process's arguments and environment as bytes: no locale, no String decoding.
enum Environment {
    static func value(_ name: StaticString) -> [UInt8]? {
        guard let value = getenv(UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)) else { return nil }
        return cBytes(value)
    }

    /// `value(name)` unless it is unset or empty, which every variable we read treats alike.
    static func nonEmpty(_ name: StaticString) -> [UInt8]? {
        guard let value = value(name), !value.isEmpty else { return nil }
        return value
    }

    static var arguments: [[UInt8]] {
        let argv = bm_argv()!
        return (0..<Int(bm_argc())).map { cBytes(argv[$0]!) }
    }

    /// `NAME=VALUE` entries in their original order.
    static var variables: [[UInt8]] {
        var entries: [[UInt8]] = []
        guard let environ = bm_environ() else { return entries }
        var index = 0
        while let entry = environ[index] {
            entries.append(cBytes(entry))
            index += 1
        }
        return entries
    }

    /// `variables` with `overrides` (`NAME=VALUE`) in place of those of the same name.
    static func variables(overriding overrides: [[UInt8]]) -> [[UInt8]] {
        var entries = variables
        for entry in overrides { set(&entries, entry) }
        return entries
    }
}

func variableName(_ entry: [UInt8]) -> ArraySlice<UInt8> {
    entry[..<(entry.firstIndex(of: UInt8(ascii: "=")) ?? entry.endIndex)]
}

/// The value of the first `NAME=VALUE` entry named `name`.
func variable(_ name: StaticString, in entries: [[UInt8]]) -> [UInt8]? {
    let name = bytes(name)
    return entries.first { variableName($0).elementsEqual(name) }.map { Array($0.dropFirst(name.count + 1)) }
}

func set(_ environment: inout [[UInt8]], _ entry: [UInt8]) {
    let name = variableName(entry)
    environment.removeAll { variableName($0) == name }
    environment.append(entry)
}
