import BatamantaFormat

/// One thing found under the directory being packed.
struct PackEntry {
    var header: TarEntryHeader
    var sourcePath: FilePath
}

/// Lists a directory tree as tar entries in the order docs/FORMAT.md fixes: sorted by
/// path bytes, so the output does not depend on readdir order or creation order.
enum TreeWalker {
    static func entries(under root: FilePath, mtime: UInt64) throws(CommandError) -> [PackEntry] {
        var entries: [PackEntry] = []
        var pending: [[UInt8]] = [[]]
        while let relative = pending.popLast() {
            let directory = relative.isEmpty ? root : root.appending(relative)
            for name in try FileSystem.entryNames(of: directory) {
                let path = relative.isEmpty ? name : relative + [UInt8(ascii: "/")] + name
                let source = root.appending(path)
                let status = try FileSystem.status(source, followingLinks: false)
                var header = TarEntryHeader(path: path, kind: .file, mode: canonicalMode(status), mtime: mtime)
                switch status.kind {
                case .regular:
                    header.size = status.size
                case .directory:
                    header.kind = .directory
                    pending.append(path)
                case .symlink:
                    header.kind = .symlink
                    header.linkTarget = try FileSystem.destination(ofLink: source)
                case .other:
                    throw CommandError(.unsupported,
                        "\(source) is not a regular file, directory or symlink (a socket, fifo or device); remove it from the tree to pack")
                }
                entries.append(PackEntry(header: header, sourcePath: source))
            }
        }
        entries.sort { $0.header.path.lexicographicallyPrecedes($1.header.path) }
        try check(entries, under: root)
        return entries
    }

    /// Permission bits come from the builder's umask, so they are reduced to what running
    /// the tree needs: executable or not. Everything lands in a private 0700 cache anyway.
    static func canonicalMode(_ status: FileStatus) -> UInt32 {
        switch status.kind {
        case .symlink: return 0o777
        case .directory: return 0o755
        default: return status.mode & 0o111 != 0 ? 0o755 : 0o644
        }
    }

    /// The dispenser refuses any tree its `TarTree` rejects, so the same rules run here,
    /// where the message can still name the source file.
    static func check(_ entries: [PackEntry], under root: FilePath) throws(CommandError) {
        var tree = TarTree()
        do {
            for entry in entries {
                _ = try tree.admit(entry.header.path, kind: entry.header.kind, linkTarget: entry.header.linkTarget)
            }
            try tree.checkLinks()
        } catch {
            throw refusal(error, entries: entries, under: root)
        }
    }

    private static func refusal(_ error: FormatError, entries: [PackEntry], under root: FilePath) -> CommandError {
        guard case .unsafeEntry(let reason, let path) = error else {
            return CommandError(.unsupported, "\(root) cannot be packed: \(error.summary)")
        }
        let source = root.appending(path)
        let target = String(decoding: entries.first { $0.header.path == path }?.header.linkTarget ?? [], as: UTF8.self)
        switch reason {
        case .absoluteLinkTarget:
            return CommandError(.unsupported,
                "symlink \(source) points to the absolute path \(target); only relative links inside the tree can be packed")
        case .escapingLinkTarget:
            return CommandError(.unsupported,
                "symlink \(source) points to \(target), which leads outside the tree being packed (following the tree's own symlinks); make it stay inside")
        default:
            return CommandError(.unsupported, "\(source) cannot be packed: \(reason.summary)")
        }
    }
}
