import BatamantaFormat
import Glibc

/// `:assemble`: dispenser + payload + metadata + trailer, as docs/FORMAT.md lays out.
enum Assemble {
    static func run(_ arguments: Arguments, _ context: RequestContext) throws(CommandError) -> Term {
        let dispenser = try arguments.path("dispenser")
        let payload = try arguments.path("payload")
        let output = try arguments.path("output")
        let uncompressed = try arguments.integer("uncompressed", in: 0...Int64.max)
        var entries: [(key: [UInt8], value: [UInt8])] = []
        for (key, value) in try arguments.pairs("metadata") {
            guard Metadata.isValidKey(key) else {
                throw .invalidArgument(":assemble metadata key \"\(String(decoding: key, as: UTF8.self))\" must match [a-z_]+")
            }
            guard !value.contains(0) else {
                throw .invalidArgument(":assemble metadata value of \(String(decoding: key, as: UTF8.self)) contains NUL")
            }
            entries.append((key: key, value: value))
        }
        let result = try assemble(
            dispenser: dispenser, payload: payload, metadata: Metadata(entries: entries),
            uncompressedSize: UInt64(uncompressed), output: output)
        return .record([
            "size": .integer(clamping: result.size),
            "sha256": .string(Hex.encode(result.sha256)),
            "content_hash": .string(Hex.encode(result.contentHash)),
        ])
    }

    struct Outcome: Equatable {
        var size: UInt64
        var sha256: [UInt8]
        var contentHash: [UInt8]
    }

    static func assemble(
        dispenser: FilePath, payload: FilePath, metadata: Metadata, uncompressedSize: UInt64, output: FilePath
    ) throws(CommandError) -> Outcome {
        let dispenserFile = try FileDescriptor.openForReading(dispenser)
        let payloadFile = try FileDescriptor.openForReading(payload)
        let payloadLength = UInt64(try payloadFile.status().st_size)
        var head = [UInt8](repeating: 0, count: ZstdFrame.headerPrefixSize)
        let headCount = try head.withMutableBytes { (bytes) throws(CommandError) in try payloadFile.read(fromAbsoluteOffset: 0, into: bytes) }
        guard ZstdFrame.hasChecksummedHeader(head[..<headCount]) else {
            throw .invalidArgument("payload \(payload) is not a zstd frame with a content checksum, which the dispenser requires; create it with :pack")
        }
        let metadataBytes = metadata.encoded()
        guard UInt64(metadataBytes.count) <= Trailer.maxMetadataLength else {
            throw .invalidArgument(":assemble metadata is \(metadataBytes.count) bytes; the dispenser accepts at most \(Trailer.maxMetadataLength)")
        }
        let file = try AtomicFile(destination: output)
        var whole = SHA256()
        var content = SHA256()
        var offset: UInt64 = 0
        let write = { (bytes: UnsafeRawBufferPointer) throws(CommandError) in
            try file.descriptor.writeAll(bytes)
            whole.update(bytes)
            offset += UInt64(bytes.count)
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        try copy(dispenserFile, through: write, buffer: &buffer)
        guard offset > 0 else { throw .invalidArgument("dispenser \(dispenser) is empty; rebuild it") }
        let payloadOffset = offset
        try copy(payloadFile, through: write, buffer: &buffer) { content.update($0) }
        guard offset - payloadOffset == payloadLength else {
            throw CommandError(.ioError, "payload \(payload) changed size while it was being copied")
        }
        let metadataOffset = offset
        content.update(metadataBytes)
        try metadataBytes.withBytes(write)
        let contentHash = content.finalize()
        let trailer = Trailer(
            payloadOffset: payloadOffset, payloadLength: payloadLength, metadataOffset: metadataOffset,
            metadataLength: UInt64(metadataBytes.count), contentHash: contentHash, uncompressedSize: uncompressedSize)
        try trailer.encoded().withBytes(write)
        try file.commit(mode: 0o755)
        return Outcome(size: offset, sha256: whole.finalize(), contentHash: contentHash)
    }

    private static func copy(
        _ input: FileDescriptor, through write: (UnsafeRawBufferPointer) throws(CommandError) -> Void,
        buffer: inout [UInt8], observe: (UnsafeRawBufferPointer) -> Void = { _ in }
    ) throws(CommandError) {
        while true {
            let count = try buffer.withMutableBytes { (bytes) throws(CommandError) in try input.read(into: bytes) }
            guard count > 0 else { return }
            try buffer.withBytes { (bytes) throws(CommandError) in
                let chunk = UnsafeRawBufferPointer(rebasing: bytes[..<count])
                observe(chunk)
                try write(chunk)
            }
        }
    }
}
