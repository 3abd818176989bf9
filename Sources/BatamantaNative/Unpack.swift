import BatamantaFormat
import Glibc

/// `:unpack`: extracts a `.tar.gz` made by ordinary tools (an OTP build on a mirror, say
/// `tar -C /usr/lib -czf OTP-25.2.3.tar.gz erlang`) into an existing directory, under the
/// tar reader's `.foreign` rules: nothing is written outside the directory, in-tree
/// relative symlinks (`bin/epmd -> ../erts-*/bin/epmd`) are kept, and symlinks that
/// leave the tree (into `/usr/share/javascript`, say) are left out and reported.
enum Unpack {
    static func run(_ arguments: Arguments, _ context: RequestContext) throws(CommandError) -> Term {
        let archive = try arguments.path("archive")
        let output = try arguments.path("output")
        let result = try unpack(archive, into: output, progress: context.progress)
        return .record([
            "entries": .integer(clamping: result.entries),
            "dropped": .list(result.dropped.map { .record(["path": .binary($0.path), "target": .binary($0.target)]) }),
        ])
    }

    struct Unpacked {
        var entries: Int
        var dropped: [TarLink]
    }

    static func unpack(_ archive: FilePath, into output: FilePath, progress: Progress) throws(CommandError) -> Unpacked {
        let file = try FileDescriptor.openForReading(archive)
        let size = UInt64(try file.status().st_size)
        let decompressor = try GzipDecompressor(name: archive.description)
        var reader = TarReader(dialect: .foreign)
        var writer = TreeExtractor(root: output)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var done: UInt64 = 0
        while true {
            let count = try file.readFully(into: &chunk, count: chunk.count)
            if count == 0 { break }
            done += UInt64(count)
            try chunk.withBytes { (compressed) throws(CommandError) in
                try decompressor.decompress(UnsafeRawBufferPointer(rebasing: compressed[..<count])) { (tar) throws(CommandError) in
                    var input = tar
                    while let event = try next(&reader, &input, archive) { try writer.handle(event) }
                }
            }
            progress.report(stage: "unpack", done: done, total: size)
        }
        guard decompressor.isMemberComplete else { throw CommandError(.corrupt, "\(archive) is truncated: its gzip data ends early") }
        let dropped: [TarLink]
        do {
            dropped = try reader.finish()
        } catch {
            throw refused(archive, error)
        }
        try writer.finish(dropping: dropped)
        return Unpacked(entries: writer.entries, dropped: dropped)
    }

    private static func next(_ reader: inout TarReader, _ input: inout UnsafeRawBufferPointer, _ archive: FilePath) throws(CommandError) -> TarEvent? {
        do {
            return try reader.next(&input)
        } catch {
            throw refused(archive, error)
        }
    }

    private static func refused(_ archive: FilePath, _ error: FormatError) -> CommandError {
        var message = "cannot unpack \(archive): \(error.summary)"
        if case .unsafeEntry(_, let entryPath) = error { message += " (\(String(decoding: entryPath, as: UTF8.self)))" }
        return CommandError(.corrupt, message)
    }
}

/// Writes tar events under `root`. TarTree has already refused any entry that is not a
/// plain relative path below directories of the archive itself, and symlinks are created
/// only at the end, so no entry can be written through one; files are still created with
/// O_EXCL | O_NOFOLLOW so nothing existing is overwritten or followed.
private struct TreeExtractor {
    let root: FilePath
    private var file: FileDescriptor?
    private var mode: UInt32 = 0
    private var links: [TarLink] = []
    /// Directories are created 0700 and get their real mode at the end, so a read-only
    /// directory in the archive can still be filled.
    private var directoryModes: [(path: FilePath, mode: UInt32)] = []
    private var created: Set<[UInt8]> = []
    private(set) var entries = 0

    init(root: FilePath) {
        self.root = root
    }

    mutating func handle(_ event: TarEvent) throws(CommandError) {
        switch event {
        case .entryStart(let header):
            entries += 1
            try makeParents(of: header.path)
            let path = root.appending(header.path)
            switch header.kind {
            case .file:
                file = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
                mode = header.mode & 0o777
            case .directory:
                if created.insert(header.path).inserted { try makeDirectory(path) }
                directoryModes.append((path, header.mode & 0o777))
            case .symlink:
                links.append(TarLink(path: header.path, target: header.linkTarget))
            }
        case .data(let bytes):
            try file?.writeAll(bytes)
        case .entryEnd:
            guard let file else { return }
            self.file = nil
            try file.setMode(mode_t(mode))
            try file.close()
        }
    }

    /// Archives made by listing files (`tar -czf x.tar.gz erlang/bin/erl ...`) or by
    /// erl_tar have no entries for some directories: they are made as tar makes them.
    private mutating func makeParents(of path: [UInt8]) throws(CommandError) {
        var prefix: [UInt8] = []
        for component in path.split(separator: UInt8(ascii: "/")).dropLast() {
            if !prefix.isEmpty { prefix.append(UInt8(ascii: "/")) }
            prefix.append(contentsOf: component)
            if created.insert(prefix).inserted {
                let directory = root.appending(prefix)
                try makeDirectory(directory)
                directoryModes.append((directory, 0o755))
            }
        }
    }

    private func makeDirectory(_ path: FilePath) throws(CommandError) {
        guard path.withCString({ mkdir($0, 0o700) }) == 0 else { throw CommandError(.current, "create directory", path) }
    }

    func finish(dropping dropped: [TarLink]) throws(CommandError) {
        for link in links where !dropped.contains(link) {
            let path = root.appending(link.path)
            guard let target = FilePath(link.target) else { throw CommandError(.corrupt, "\(path) links to an unusable target") }
            let result = target.withCString { target in path.withCString { symlink(target, $0) } }
            guard result == 0 else { throw CommandError(.current, "create symlink", path) }
        }
        // In entry order: a directory's own entry may follow its implicit creation.
        for directory in directoryModes {
            guard directory.path.withCString({ chmod($0, mode_t(directory.mode)) }) == 0 else {
                throw CommandError(.current, "chmod", directory.path)
            }
        }
    }
}
