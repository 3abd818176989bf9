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
        let argv = batamanta_argv()!
        return (0..<Int(batamanta_argc())).map { cBytes(argv[$0]!) }
    }

    /// `NAME=VALUE` entries in their original order.
    static var variables: [[UInt8]] {
        var entries: [[UInt8]] = []
        guard let environ = batamanta_environ() else { return entries }
        var index = 0
        while let entry = environ[index] {
            entries.append(cBytes(entry))
            index += 1
        }
        return entries
    }
}
