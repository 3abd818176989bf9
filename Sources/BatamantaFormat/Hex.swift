/// Lowercase hex of `bytes`, used for the extraction directory name.
public func hexDigits(_ bytes: some Collection<UInt8>) -> [UInt8] {
    let digits: StaticString = "0123456789abcdef"
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits.utf8Start[Int(byte >> 4)])
        out.append(digits.utf8Start[Int(byte & 0xf)])
    }
    return out
}
