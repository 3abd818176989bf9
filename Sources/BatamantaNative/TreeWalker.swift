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
            for name in try FileSystem.contents(of: directory) {
                let path = relative.isEmpty ? name : relative + [UInt8(ascii: "/")] + name
                let source = root.appending(path)
                let status = try FileSystem.status(source)
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
                    try checkLink(header, source: source)
                case .other:
                    throw CommandError(.unsupported,
                        "\(source) is not a regular file, directory or symlink (a socket, fifo or device); remove it from the tree to pack")
                }
                entries.append(PackEntry(header: header, sourcePath: source))
            }
        }
        entries.sort { $0.header.path.lexicographicallyPrecedes($1.header.path) }
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

    /// The dispenser refuses links that leave the extraction root, so refuse them here,
    /// where the message can still name the file.
    static func checkLink(_ header: TarEntryHeader, source: FilePath) throws(CommandError) {
        let target = header.linkTarget
        guard !target.isEmpty, target.first != UInt8(ascii: "/") else {
            throw CommandError(.unsupported,
                "symlink \(source) points to the absolute path \(FilePath(target)); only relative links inside the tree can be packed")
        }
        var depth = header.path.split(separator: UInt8(ascii: "/")).count - 1
        for component in target.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if component.elementsEqual([UInt8(ascii: ".")]) { continue }
            depth += component.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) ? -1 : 1
            guard depth >= 0 else {
                throw CommandError(.unsupported,
                    "symlink \(source) points to \(FilePath(target)), outside the tree being packed; make it stay inside")
            }
        }
    }
}
