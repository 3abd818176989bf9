import Testing
@testable import BatamantaFormat

@Suite struct SHA256Tests {
    static func hex(_ bytes: [UInt8]) -> String { String(decoding: hexDigits(bytes), as: UTF8.self) }

    static func digest(_ bytes: [UInt8]) -> String {
        var hasher = SHA256()
        hasher.update(bytes)
        return hex(hasher.finalize())
    }

    @Test func knownVectors() {
        #expect(Self.digest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Self.digest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Self.digest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func oneMillionA() {
        #expect(Self.digest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Lengths around the 55/56/64-byte padding edges, fed whole and split at every offset.
    @Test func chunkBoundariesDoNotChangeTheDigest() {
        for length in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 200] {
            let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let whole = Self.digest(message)
            for split in 0...length {
                var hasher = SHA256()
                hasher.update(Array(message[..<split]))
                message[split...].withUnsafeBytes { hasher.update($0) }
                #expect(Self.hex(hasher.finalize()) == whole, "length \(length) split \(split)")
            }
            var bytewise = SHA256()
            for byte in message { bytewise.update([byte]) }
            #expect(Self.hex(bytewise.finalize()) == whole)
        }
    }

    /// The CPU's SHA instructions (where this machine has them) and the portable rounds agree
    /// on every length and split, so a binary packed on one host verifies on any other.
    @Test func acceleratedAndPortableRoundsAgree() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 63, 64, 65, 127, 128, 1000, 4096, 65_537, 1 << 20] {
            let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let split = length == 0 ? 0 : Int.random(in: 0..<length)
            func digest(accelerated: Bool) -> String {
                var hasher = SHA256(accelerated: accelerated)
                hasher.update(Array(message[..<split]))
                hasher.update(Array(message[split...]))
                return Self.hex(hasher.finalize())
            }
            #expect(digest(accelerated: true) == digest(accelerated: false), "length \(length) split \(split)")
        }
    }
}
