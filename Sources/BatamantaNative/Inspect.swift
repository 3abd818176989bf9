import BatamantaFormat

/// `:inspect`: what a batamanta executable carries, read back the way the dispenser would.
enum Inspect {
    static func run(_ arguments: Arguments, _ progress: Progress) throws(CommandError) -> Term {
        let path = try arguments.path("path")
        let list = try arguments.bool("list", default: false)
        let contents = try inspect(path, listing: list)
        return .record([
            "trailer": .record([
                "format_version": .integer(clamping: Trailer.version),
                "payload_offset": .integer(clamping: contents.trailer.payloadOffset),
                "payload_length": .integer(clamping: contents.trailer.payloadLength),
                "metadata_offset": .integer(clamping: contents.trailer.metadataOffset),
                "metadata_length": .integer(clamping: contents.trailer.metadataLength),
                "uncompressed_size": .integer(clamping: contents.trailer.uncompressedSize),
                "content_hash": .string(Hex.encode(contents.trailer.contentHash)),
            ]),
            "metadata": .list(contents.metadata.entries.map { .tuple([.binary($0.key), .binary($0.value)]) }),
            "entries": .list(contents.entries.map(describe)),
        ])
    }

    struct Contents {
        var trailer: Trailer
        var metadata: Metadata
        var entries: [TarEntryHeader]
    }

    static func inspect(_ path: FilePath, listing: Bool) throws(CommandError) -> Contents {
        let file = try FileDescriptor.openForReading(path)
        let size = try file.size()
        guard size >= UInt64(Trailer.size) else { throw noTrailer(path) }
        let trailerBytes = try file.read(count: Trailer.size, at: size - UInt64(Trailer.size))
        let trailer: Trailer
        do {
            trailer = try Trailer.parse(trailerBytes, fileSize: size)
        } catch {
            throw error == .noTrailer ? noTrailer(path) : corrupt(path, error)
        }
        let metadataBytes = try file.read(count: Int(trailer.metadataLength), at: trailer.metadataOffset)
        let metadata: Metadata
        do {
            metadata = try Metadata.parse(metadataBytes)
        } catch {
            throw corrupt(path, error)
        }
        guard listing else { return Contents(trailer: trailer, metadata: metadata, entries: []) }
        return Contents(trailer: trailer, metadata: metadata,
                        entries: try listEntries(file, trailer: trailer, metadataBytes: metadataBytes))
    }

    /// Streams the whole payload, so it also verifies the content hash, the zstd
    /// checksum and the tar structure, like an extraction would.
    private static func listEntries(_ file: FileDescriptor, trailer: Trailer, metadataBytes: [UInt8]) throws(CommandError) -> [TarEntryHeader] {
        let path = file.path
        let decompressor = try ZstdDecompressor(name: path.description)
        var reader = TarReader()
        var entries: [TarEntryHeader] = []
        var hash = SHA256()
        var uncompressed: UInt64 = 0
        var offset = trailer.payloadOffset
        let end = trailer.payloadOffset + trailer.payloadLength
        while offset < end {
            let chunk = try file.read(count: Int(min(1 << 20, end - offset)), at: offset)
            if offset == trailer.payloadOffset, !ZstdFrame.hasChecksummedHeader(chunk) {
                throw CommandError(.corrupt, "\(path): the payload is not a zstd frame with a content checksum")
            }
            offset += UInt64(chunk.count)
            hash.update(chunk)
            try chunk.withBytes { (compressed) throws(CommandError) in
                try decompressor.decompress(compressed) { (tar) throws(CommandError) in
                    uncompressed += UInt64(tar.count)
                    var input = tar
                    do throws(FormatError) {
                        while let event = try reader.next(&input) {
                            if case .entryStart(let header) = event { entries.append(header) }
                        }
                    } catch {
                        throw corrupt(path, error)
                    }
                }
            }
        }
        hash.update(metadataBytes)
        guard hash.finalize() == trailer.contentHash else {
            throw CommandError(.corrupt, "\(path): content hash mismatch; the payload or metadata was modified after assembly")
        }
        guard decompressor.isFrameComplete else { throw CommandError(.corrupt, "\(path): the zstd frame of the payload is truncated") }
        do {
            try reader.finish()
        } catch {
            throw corrupt(path, error)
        }
        guard uncompressed == trailer.uncompressedSize else {
            throw CommandError(.corrupt, "\(path): payload holds \(uncompressed) tar bytes, the trailer says \(trailer.uncompressedSize)")
        }
        return entries
    }

    private static func describe(_ entry: TarEntryHeader) -> Term {
        let type: String
        switch entry.kind {
        case .file: type = "file"
        case .directory: type = "directory"
        case .symlink: type = "symlink"
        }
        return .record([
            "path": .binary(entry.path),
            "type": .string(type),
            "mode": .integer(clamping: entry.mode),
            "size": .integer(clamping: entry.size),
            "link": entry.kind == .symlink ? .binary(entry.linkTarget) : .nil,
        ])
    }

    private static func noTrailer(_ path: FilePath) -> CommandError {
        CommandError(.noTrailer, "\(path) has no batamanta trailer: it is not a batamanta executable, or it was stripped or truncated")
    }

    private static func corrupt(_ path: FilePath, _ error: FormatError) -> CommandError {
        var message = "\(path): \(error.summary)"
        if case .unsafeEntry(_, let entryPath) = error { message += " (\(FilePath(entryPath)))" }
        return CommandError(.corrupt, message)
    }
}
