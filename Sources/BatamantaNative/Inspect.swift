import BatamantaFormat

/// `:inspect`: what a batamanta executable carries, read back the way the dispenser would.
enum Inspect {
    static func run(_ arguments: Arguments, _ context: RequestContext) throws(CommandError) -> Term {
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
        let located = try Trailer.locate(
            fileSize: UInt64(try file.status().st_size), read: { (count, offset) throws(CommandError) in try read(file, count, at: offset) },
            refusing: { refusal(path, $0) })
        let entries = listing ? try listEntries(file, located) : []
        return Contents(trailer: located.trailer, metadata: located.metadata, entries: entries)
    }

    /// Streams the whole payload, so it also verifies the content hash, the zstd
    /// checksum and the tar structure, like an extraction would.
    private static func listEntries(_ file: FileDescriptor, _ located: Trailer.Located) throws(CommandError) -> [TarEntryHeader] {
        guard var payload = PayloadReader(for: located) else {
            throw CommandError(.ioError, "zstd could not allocate a decompressor for \(file.path)")
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var entries: [TarEntryHeader] = []
        var offset = located.trailer.payloadOffset
        let end = offset + located.trailer.payloadLength
        while offset < end {
            let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[..<Int(min(UInt64(buffer.count), end - offset))])
            switch Result(catching: { () throws(ExactReadError) in try file.read(exactlyFromAbsoluteOffset: offset, into: chunk) }) {
            case .success: break
            case .failure(.endOfFile): throw refusal(file.path, .corrupt(.payloadTruncated))
            case .failure(.failed(let error)): throw error
            }
            offset += UInt64(chunk.count)
            do throws(FormatError) {
                payload.feed(UnsafeRawBufferPointer(chunk))
                while let event = try payload.next() {
                    if case .entryStart(let header) = event { entries.append(header) }
                }
            } catch {
                throw refusal(file.path, error)
            }
        }
        do throws(FormatError) {
            try payload.finish()
        } catch {
            throw refusal(file.path, error)
        }
        return entries
    }

    private static func read(_ file: FileDescriptor, _ count: Int, at offset: UInt64) throws(CommandError) -> [UInt8]? {
        switch Result(catching: { () throws(ExactReadError) in try file.read(exactly: count, fromAbsoluteOffset: offset) }) {
        case .success(let bytes): return bytes
        case .failure(.endOfFile): return nil
        case .failure(.failed(let error)): throw error
        }
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

    private static func refusal(_ path: FilePath, _ error: FormatError) -> CommandError {
        if error == .noTrailer {
            return CommandError(.noTrailer, "\(path) has no batamanta trailer: it is not a batamanta executable, or it was stripped or truncated")
        }
        var message = "\(path): \(error.summary)"
        if case .unsafeEntry(_, let entryPath) = error { message += " (\(String(decoding: entryPath, as: UTF8.self)))" }
        return CommandError(.corrupt, message)
    }
}
