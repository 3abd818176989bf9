extension Array where Element == UInt8 {
    /// The standard `withUnsafeBytes` is `rethrows`, which widens a typed error to
    /// `any Error`; routing it through `Result` keeps the closure's error type.
    func withBytes<R, Failure: Error>(_ body: (UnsafeRawBufferPointer) throws(Failure) -> R) throws(Failure) -> R {
        try withUnsafeBytes { bytes in Result { () throws(Failure) in try body(bytes) } }.get()
    }

    mutating func withMutableBytes<R, Failure: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(Failure) -> R
    ) throws(Failure) -> R {
        try withUnsafeMutableBytes { bytes in Result { () throws(Failure) in try body(bytes) } }.get()
    }
}
