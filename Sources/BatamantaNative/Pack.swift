import BatamantaFormat
import CZstd
import Glibc

/// `:pack`: a directory as a deterministic tar stream, in one zstd frame, or two when
/// `first_frame` names the roots of the entries that go first (the runtime, which a
/// rebuild of the same app does not change). With `cache`, a frame whose exact contents
/// were compressed before at the same settings is copied from there instead of being
/// compressed again: the output is the same bytes either way.
enum Pack {
    static func run(_ arguments: Arguments, _ context: RequestContext) throws(CommandError) -> Term {
        let source = try arguments.path("source")
        let output = try arguments.path("output")
        let level = try arguments.integer("level", in: 1...22)
        let mtime = try arguments.integer("mtime", in: 0...0o77777777777)
        let firstFrame = try arguments.paths("first_frame", required: false).map(\.bytes)
        let cache = try arguments.optionalPath("cache")
        guard try FileSystem.status(source, followingLinks: true).kind == .directory else {
            throw .invalidArgument(":pack source \(source) is not a directory")
        }
        let result = try pack(
            source, to: output, settings: ZstdCompressor.Settings(level: Int32(level)), mtime: UInt64(mtime),
            firstFrame: firstFrame, cache: cache, progress: context.progress)
        return .record([
            "size": .integer(clamping: result.size),
            "uncompressed": .integer(clamping: result.uncompressed),
            "entries": .integer(clamping: result.entries),
            "frames": .integer(clamping: result.frames),
            "reused": .integer(clamping: result.reused),
        ])
    }

    struct Outcome: Equatable {
        var size: UInt64
        var uncompressed: UInt64
        var entries: Int
        var frames: Int
        /// Frames copied from the cache.
        var reused: Int
    }

    static func pack(
        _ source: FilePath, to output: FilePath, settings: ZstdCompressor.Settings, mtime: UInt64,
        firstFrame: [[UInt8]] = [], cache: FilePath? = nil, progress: Progress
    ) throws(CommandError) -> Outcome {
        let entries = try TreeWalker.entries(under: source, mtime: mtime)
        let segments = Segment.split(entries, firstFrame: firstFrame)
        let total = segments.reduce(0) { $0 + $1.size }
        let file = try AtomicFile(destination: output)
        var outcome = Outcome(size: 0, uncompressed: total, entries: entries.count, frames: segments.count, reused: 0)
        var done: UInt64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        let write = { (bytes: UnsafeRawBufferPointer) throws(CommandError) in
            try file.descriptor.writeAll(bytes)
            outcome.size += UInt64(bytes.count)
        }
        for segment in segments {
            var frameSettings = settings
            frameSettings.pledgedSize = segment.size
            var cached: FrameCache?
            if let cache {
                var contents = SHA256()
                try segment.stream(buffer: &buffer) { bytes in contents.update(bytes) }
                let hash = contents.finalize()
                let frameCache = FrameCache(directory: cache, key: FrameCache.key(contents: hash, settings: frameSettings))
                cached = frameCache
                if try frameCache.copy(to: write, contents: hash, size: segment.size) {
                    outcome.reused += 1
                    done += segment.size
                    progress.report(stage: "pack", done: done, total: total)
                    continue
                }
            }
            // The cache only saves time: an entry that cannot be written is dropped.
            var entry = cached.flatMap { try? AtomicFile(destination: $0.path) }
            let compressor = try ZstdCompressor(frameSettings, name: output.description) { (bytes) throws(CommandError) in
                try write(bytes)
                if let file = entry, (try? file.descriptor.writeAll(bytes)) == nil { entry = nil }
            }
            try segment.stream(buffer: &buffer) { (bytes) throws(CommandError) in
                try compressor.compress(bytes)
                done += UInt64(bytes.count)
                progress.report(stage: "pack", done: done, total: total)
            }
            try compressor.finish()
            try? entry?.commit(mode: 0o644)
        }
        try file.commit(mode: 0o644)
        return outcome
    }
}

/// The entries of one frame, in order, and the tar bytes they make.
struct Segment {
    var entries: [(entry: PackEntry, header: [UInt8])]
    /// The last segment ends the archive.
    var endsArchive: Bool

    var size: UInt64 {
        entries.reduce(endsArchive ? UInt64(2 * TarEntryHeader.blockSize) : 0) { total, item in
            total + UInt64(item.header.count) + item.entry.header.size + UInt64(padding(item.entry.header.size))
        }
    }

    /// Entries at or under a root of `firstFrame`, and the directories above them, first;
    /// each part keeps the walk's order, so parents still come before their children.
    static func split(_ entries: [PackEntry], firstFrame roots: [[UInt8]]) -> [Segment] {
        let items = entries.map { (entry: $0, header: $0.header.encoded()) }
        guard !roots.isEmpty else { return [Segment(entries: items, endsArchive: true)] }
        let slash = UInt8(ascii: "/")
        let first = { (path: [UInt8]) in
            roots.contains { root in
                path == root || path.starts(with: root + [slash]) || root.starts(with: path + [slash])
            }
        }
        return [
            Segment(entries: items.filter { first($0.entry.header.path) }, endsArchive: false),
            Segment(entries: items.filter { !first($0.entry.header.path) }, endsArchive: true),
        ]
    }

    /// Hands the segment's tar bytes to `sink`, in pieces. Exactly the size the walk saw
    /// goes into the stream; a file that changed size since would make the tar header
    /// lie, so that is an error.
    func stream(buffer: inout [UInt8], into sink: (UnsafeRawBufferPointer) throws(CommandError) -> Void) throws(CommandError) {
        for (entry, header) in entries {
            try header.withBytes(sink)
            guard entry.header.kind == .file else { continue }
            let input = try FileDescriptor.openForReading(entry.sourcePath)
            var remaining = entry.header.size
            while remaining > 0 {
                let wanted = Int(min(remaining, UInt64(buffer.count)))
                let count = try input.readFully(into: &buffer, count: wanted)
                guard count == wanted else {
                    throw CommandError(.ioError, "\(entry.sourcePath) shrank while it was being packed; pack again once nothing writes to it")
                }
                try buffer.withBytes { (bytes) throws(CommandError) in try sink(UnsafeRawBufferPointer(rebasing: bytes[..<count])) }
                remaining -= UInt64(count)
            }
            try [UInt8](repeating: 0, count: padding(entry.header.size)).withBytes(sink)
        }
        if endsArchive { try [UInt8](repeating: 0, count: 2 * TarEntryHeader.blockSize).withBytes(sink) }
    }
}
