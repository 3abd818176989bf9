import Glibc

/// `{packet, 4}` framing: a 4-byte big-endian length, then that many bytes.
struct PortIO {
    enum ReadResult: Equatable {
        case packet([UInt8])
        case endOfInput
        /// A packet over `maximumPacketSize`, skipped so the next one can still be read.
        case oversized(Int)
        /// The stream broke mid-packet or failed; nothing more can be framed from it.
        case broken(String)
    }

    /// Larger packets are refused rather than allocated; no request comes near this.
    static let maximumPacketSize = 256 << 20

    let input: FileDescriptor
    let output: FileDescriptor

    static var standard: PortIO {
        PortIO(input: .standard(0, name: "stdin"), output: .standard(1, name: "stdout"))
    }

    func readPacket() -> ReadResult {
        var header = [UInt8](repeating: 0, count: 4)
        let headerCount: Int
        do {
            headerCount = try input.readFully(into: &header, count: 4)
        } catch {
            return .broken(error.message)
        }
        if headerCount == 0 { return .endOfInput }
        guard headerCount == 4 else { return .broken("stdin ended inside a packet header") }
        let length = header.reduce(0) { $0 << 8 | Int($1) }
        guard length <= PortIO.maximumPacketSize else { return skip(length) }
        var body = [UInt8](repeating: 0, count: length)
        do {
            let count = try input.readFully(into: &body, count: length)
            guard count == length else { return .broken("stdin ended after \(count) of \(length) packet bytes") }
        } catch {
            return .broken(error.message)
        }
        return .packet(body)
    }

    private func skip(_ length: Int) -> ReadResult {
        var remaining = length
        var scratch = [UInt8](repeating: 0, count: 1 << 16)
        while remaining > 0 {
            let wanted = min(remaining, scratch.count)
            do {
                let count = try input.readFully(into: &scratch, count: wanted)
                guard count == wanted else { return .broken("stdin ended inside a \(length)-byte packet") }
            } catch {
                return .broken(error.message)
            }
            remaining -= wanted
        }
        return .oversized(length)
    }

    func writePacket(_ body: [UInt8]) throws(CommandError) {
        let length = UInt32(clamping: body.count)
        var framed: [UInt8] = [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
        framed.append(contentsOf: body)
        try output.writeAll(framed)
    }
}
