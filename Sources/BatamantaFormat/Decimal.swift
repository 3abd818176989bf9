/// The value of `digits`, ASCII decimal without sign or padding, or nil when it is empty,
/// longer than `maxDigits` or holds anything else. Up to 19 digits cannot overflow.
func decimalValue(_ digits: some Collection<UInt8>, maxDigits: Int) -> UInt64? {
    guard !digits.isEmpty, digits.count <= maxDigits else { return nil }
    var value: UInt64 = 0
    for digit in digits {
        guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
        value = value * 10 + UInt64(digit - UInt8(ascii: "0"))
    }
    return value
}
