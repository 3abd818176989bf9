import BatamantaFormat
import Glibc

/// `:pack`: a directory as a deterministic tar stream in one zstd frame.
enum Pack {
    static func run(_ arguments: Arguments, _ context: RequestContext) throws(CommandError) -> Term {
        let source = try arguments.path("source")
        let output = try arguments.path("output")
        let level = try arguments.integer("level", in: 1...22)
        let mtime = try arguments.integer("mtime", in: 0...0o77777777777)
        guard try FileSystem.status(source, followingLinks: true).kind == .directory else {
            throw .invalidArgument(":pack source \(source) is not a directory")
        }
        let result = try pack(
            source, to: output, settings: ZstdCompressor.Settings(level: Int32(level)), mtime: UInt64(mtime), progress: context.progress)
        return .record([
            "size": .integer(clamping: result.size),
            "uncompressed": .integer(clamping: result.uncompressed),
            "entries": .integer(clamping: result.entries),
        ])
    }

    struct Outcome: Equatable {
        var size: UInt64
        var uncompressed: UInt64
        var entries: Int
    }

    static func pack(
        _ source: FilePath, to output: FilePath, settings: ZstdCompressor.Settings, mtime: UInt64, progress: Progress
    ) throws(CommandError) -> Outcome {
        let entries = try TreeWalker.entries(under: source, mtime: mtime)
        let headers = entries.map { $0.header.encoded() }
        let endOfArchive = [UInt8](repeating: 0, count: 2 * TarEntryHeader.blockSize)
        var total = UInt64(endOfArchive.count)
        for (entry, header) in zip(entries, headers) {
            total += UInt64(header.count) + entry.header.size + UInt64(padding(entry.header.size))
        }

        let file = try AtomicFile(destination: output)
        var written: UInt64 = 0
        var settings = settings
        settings.pledgedSize = total
        let compressor = try ZstdCompressor(settings, name: output.description) { (bytes) throws(CommandError) in
            try file.descriptor.writeAll(bytes)
            written += UInt64(bytes.count)
        }
        var done: UInt64 = 0
        let advance = { (count: Int) in
            done += UInt64(count)
            progress.report(stage: "pack", done: done, total: total)
        }
        let feed = { (bytes: [UInt8]) throws(CommandError) in
            try compressor.compress(bytes)
            advance(bytes.count)
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        for (entry, header) in zip(entries, headers) {
            try feed(header)
            guard entry.header.kind == .file else { continue }
            try copyContents(of: entry, into: compressor, buffer: &buffer, advanced: advance)
            try feed([UInt8](repeating: 0, count: padding(entry.header.size)))
        }
        try feed(endOfArchive)
        try compressor.finish()
        try file.commit(mode: 0o644)
        return Outcome(size: written, uncompressed: total, entries: entries.count)
    }

    /// Exactly the size the walk saw goes into the stream; a file that changed size since
    /// would make the tar header lie, so that is an error.
    private static func copyContents(
        of entry: PackEntry, into compressor: ZstdCompressor, buffer: inout [UInt8], advanced: (Int) -> Void
    ) throws(CommandError) {
        let input = try FileDescriptor.openForReading(entry.sourcePath)
        var remaining = entry.header.size
        while remaining > 0 {
            let wanted = Int(min(remaining, UInt64(buffer.count)))
            let count = try input.readFully(into: &buffer, count: wanted)
            guard count == wanted else {
                throw CommandError(.ioError, "\(entry.sourcePath) shrank while it was being packed; pack again once nothing writes to it")
            }
            try buffer.withBytes { (bytes) throws(CommandError) in
                try compressor.compress(UnsafeRawBufferPointer(rebasing: bytes[..<count]))
            }
            remaining -= UInt64(count)
            advanced(count)
        }
    }
}
