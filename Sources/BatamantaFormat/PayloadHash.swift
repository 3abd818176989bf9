/// The payload's outermost layer: the SHA-256 of its compressed bytes, then of its
/// metadata, must be the trailer's content hash. Callers feed it the very buffers they
/// then decode, in their order, so no other read of the payload can pass in their place.
///
///     var hash = PayloadHash(for: located)
///     for chunk in the payload's bytes, in order { hash.update(chunk) }
///     try hash.finish()
public struct PayloadHash {
    private let expected: [UInt8]
    private let metadataBytes: [UInt8]
    private var hash = SHA256()

    public init(for located: Trailer.Located) {
        expected = located.trailer.contentHash
        metadataBytes = located.metadataBytes
    }

    public mutating func update(_ chunk: UnsafeRawBufferPointer) {
        hash.update(chunk)
    }

    /// Call once, after the last chunk.
    public mutating func finish() throws(FormatError) {
        hash.update(metadataBytes)
        guard hash.finalize() == expected else { throw .corrupt(.contentHash) }
    }
}
