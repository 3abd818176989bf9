/// `KEY=VALUE\0` records between the payload and the trailer (docs/FORMAT.md).
/// Order is kept and keys may repeat, so this is a list rather than a dictionary.
public struct Metadata {
    public var entries: [(key: [UInt8], value: [UInt8])]

    public init(entries: [(key: [UInt8], value: [UInt8])]) {
        self.entries = entries
    }

    /// Keys must match `[a-z_]+` and values must not contain NUL; violating that is a
    /// programming error on the writer's side.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        for (key, value) in entries {
            precondition(Metadata.isValidKey(key), "metadata key must match [a-z_]+")
            precondition(!value.contains(0), "metadata value must not contain NUL")
            bytes.append(contentsOf: key)
            bytes.append(UInt8(ascii: "="))
            bytes.append(contentsOf: value)
            bytes.append(0)
        }
        return bytes
    }

    public static func parse(_ bytes: [UInt8]) throws(FormatError) -> Metadata {
        guard bytes.last == 0 else { throw .corrupt(.metadataRecord) }
        var entries: [(key: [UInt8], value: [UInt8])] = []
        var start = 0
        while start < bytes.count {
            var end = start
            while bytes[end] != 0 { end += 1 }
            guard let equals = bytes[start..<end].firstIndex(of: UInt8(ascii: "=")) else {
                throw .corrupt(.metadataRecord)
            }
            let key = Array(bytes[start..<equals])
            guard isValidKey(key) else { throw .corrupt(.metadataKey) }
            entries.append((key: key, value: Array(bytes[(equals + 1)..<end])))
            start = end + 1
        }
        return Metadata(entries: entries)
    }

    public func first(_ key: [UInt8]) -> [UInt8]? {
        entries.first { $0.key == key }?.value
    }

    public func all(_ key: [UInt8]) -> [[UInt8]] {
        entries.filter { $0.key == key }.map { $0.value }
    }

    public static func isValidKey(_ key: [UInt8]) -> Bool {
        !key.isEmpty && key.allSatisfy { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || $0 == UInt8(ascii: "_") }
    }
}
