import Glibc

/// What `lstat` or `stat` says about a path, in the terms the commands use.
struct FileStatus {
    enum Kind { case regular, directory, symlink, other }

    var kind: Kind
    var mode: UInt32
    var size: UInt64
}

enum FileSystem {
    /// A symlink is reported as one unless `followingLinks`, which reports what it names.
    static func status(_ path: FilePath, followingLinks: Bool) throws(CommandError) -> FileStatus {
        var info = stat()
        let result = path.withCString { followingLinks ? stat($0, &info) : lstat($0, &info) }
        guard result == 0 else { throw CommandError(.current, "stat", path) }
        let kind: FileStatus.Kind
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        default: kind = .other
        }
        return FileStatus(kind: kind, mode: UInt32(info.st_mode & 0o7777), size: UInt64(info.st_size))
    }

    /// Entry names of a directory, without "." and "..", in no particular order.
    static func entryNames(of directory: FilePath) throws(CommandError) -> [[UInt8]] {
        guard let stream = directory.withCString({ opendir($0) }) else {
            throw CommandError(.current, "list directory", directory)
        }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw CommandError(.current, "list directory", directory) }
                return names
            }
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(name)
        }
    }

    static func destination(ofLink path: FilePath) throws(CommandError) -> [UInt8] {
        var capacity = 256
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let count = buffer.withUnsafeMutableBufferPointer { out in
                path.withCString { readlink($0, UnsafeMutableRawPointer(out.baseAddress!).assumingMemoryBound(to: CChar.self), capacity) }
            }
            guard count >= 0 else { throw CommandError(.current, "read link", path) }
            if count < capacity { return Array(buffer[..<count]) }
            capacity *= 4
        }
    }

    static func readContents(_ path: FilePath, limit: Int = 1 << 20) throws(CommandError) -> [UInt8] {
        let file = try FileDescriptor.openForReading(path)
        var bytes = [UInt8](repeating: 0, count: limit)
        let count = try file.readFully(into: &bytes, count: limit)
        return Array(bytes[..<count])
    }
}
