// libFuzzer harness: the last 96 bytes as a trailer and the rest as metadata; every
// accepted value must survive an encode/parse round trip.

@_cdecl("LLVMFuzzerTestOneInput")
public func trailerMetadataOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if bytes.count >= Trailer.size {
        let tail = Array(bytes.suffix(Trailer.size))
        if let trailer = try? Trailer.parse(tail, fileSize: UInt64(bytes.count)) {
            precondition(trailer.encoded() == tail, "trailer round trip")
            precondition(trailer.payloadOffset + trailer.payloadLength == trailer.metadataOffset, "inconsistent layout accepted")
        }
    }
    if let metadata = try? Metadata.parse(bytes) {
        precondition(metadata.encoded() == bytes, "metadata round trip")
    }
    return 0
}
