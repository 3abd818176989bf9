import CErlInterface

/// Builds one external-term-format message with libei's growable buffer.
final class TermEncoder {
    private var buffer = ei_x_buff()
    private var failed = false

    init() {
        if ei_x_new_with_version(&buffer) != 0 { failed = true }
    }

    deinit {
        ei_x_free(&buffer)
    }

    /// The encoded bytes (version byte 131 first), or nil if libei ran out of memory.
    static func encode(_ term: Term) -> [UInt8]? {
        let encoder = TermEncoder()
        encoder.append(term)
        return encoder.bytes
    }

    var bytes: [UInt8]? {
        guard !failed, let base = buffer.buff else { return nil }
        return base.withMemoryRebound(to: UInt8.self, capacity: Int(buffer.index)) {
            Array(UnsafeBufferPointer(start: $0, count: Int(buffer.index)))
        }
    }

    func append(_ term: Term) {
        guard !failed else { return }
        let status: Int32
        switch term {
        case .atom(let name):
            let utf8 = Array(name.utf8)
            status = utf8.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) {
                    ei_x_encode_atom_len_as(&buffer, $0.baseAddress, Int32(bytes.count), ERLANG_UTF8, ERLANG_UTF8)
                }
            }
        case .integer(let value):
            status = ei_x_encode_longlong(&buffer, value)
        case .bigInteger(let isNegative, let magnitude):
            status = appendBig(isNegative: isNegative, magnitude: magnitude)
        case .float(let value):
            status = ei_x_encode_double(&buffer, value)
        case .binary(let bytes):
            guard let length = Int32(exactly: bytes.count) else { failed = true; return }
            status = bytes.withUnsafeBytes { ei_x_encode_binary(&buffer, $0.baseAddress, length) }
        case .charList(let bytes):
            guard let length = Int32(exactly: bytes.count) else { failed = true; return }
            status = bytes.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { ei_x_encode_string_len(&buffer, $0.baseAddress, length) }
            }
        case .list(let elements):
            if elements.isEmpty {
                status = ei_x_encode_empty_list(&buffer)
            } else {
                guard ei_x_encode_list_header(&buffer, elements.count) == 0 else { failed = true; return }
                elements.forEach(append)
                status = ei_x_encode_empty_list(&buffer)
            }
        case .tuple(let elements):
            guard ei_x_encode_tuple_header(&buffer, elements.count) == 0 else { failed = true; return }
            elements.forEach(append)
            status = 0
        case .map(let entries):
            guard ei_x_encode_map_header(&buffer, entries.count) == 0 else { failed = true; return }
            for entry in entries {
                append(entry.key)
                append(entry.value)
            }
            status = 0
        }
        if status != 0 { failed = true }
    }

    /// libei keeps big digits as 16-bit words, least significant first.
    private func appendBig(isNegative: Bool, magnitude: [UInt8]) -> Int32 {
        guard let big = ei_alloc_big(UInt32(magnitude.count)) else { return -1 }
        defer { ei_free_big(big) }
        big.pointee.is_neg = isNegative ? 1 : 0
        let words = big.pointee.digits.assumingMemoryBound(to: UInt16.self)
        for wordIndex in 0..<((magnitude.count + 1) / 2) {
            let low = UInt16(magnitude[wordIndex * 2])
            let high = wordIndex * 2 + 1 < magnitude.count ? UInt16(magnitude[wordIndex * 2 + 1]) : 0
            words[wordIndex] = low | high << 8
        }
        return ei_x_encode_big(&buffer, big)
    }
}
