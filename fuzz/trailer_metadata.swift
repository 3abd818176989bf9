// libFuzzer harness: the input as a whole file through Trailer.locate, and as metadata
// records; every accepted value must survive an encode/parse round trip.

@_cdecl("LLVMFuzzerTestOneInput")
public func trailerMetadataOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let located = try? Trailer.locate(fileSize: UInt64(bytes.count), read: { (count, offset) throws(FormatError) -> [UInt8]? in
        guard offset <= UInt64(bytes.count), UInt64(bytes.count) - offset >= UInt64(count) else { return nil }
        return Array(bytes[Int(offset)..<(Int(offset) + count)])
    }, refusing: { $0 })
    if let located {
        let trailer = located.trailer
        precondition(trailer.encoded() == Array(bytes.suffix(Trailer.size)), "trailer round trip")
        precondition(trailer.payloadOffset + trailer.payloadLength == trailer.metadataOffset, "inconsistent layout accepted")
        let start = Int(trailer.metadataOffset)
        precondition(located.metadataBytes == Array(bytes[start..<(start + Int(trailer.metadataLength))]), "metadata misplaced")
        precondition(located.metadata.encoded() == located.metadataBytes, "located metadata round trip")
    }
    if let metadata = try? Metadata.parse(bytes) {
        precondition(metadata.encoded() == bytes, "metadata round trip")
    }
    return 0
}
