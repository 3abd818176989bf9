import CLibc

/// An owned-by-convention file descriptor with the handful of operations we need.
/// Errors come back as errno values; callers turn them into `Failure`s with a path.
struct FileDescriptor {
    var rawValue: Int32

    static let standardError = FileDescriptor(rawValue: 2)
    static let currentDirectory = FileDescriptor(rawValue: AT_FDCWD)

    /// Opens `path` relative to this directory. Descriptors are close-on-exec unless
    /// `inheritable`, which the extraction lock needs so the VM keeps holding it.
    func open(_ path: [UInt8], _ flags: Int32, mode: UInt32 = 0, inheritable: Bool = false) -> Result<FileDescriptor, Errno> {
        let fd = withCPath(path) { batamanta_openat(rawValue, $0, flags | (inheritable ? 0 : O_CLOEXEC), mode_t(mode)) }
        return fd < 0 ? .failure(.current) : .success(FileDescriptor(rawValue: fd))
    }

    func openDirectory(_ path: [UInt8], inheritable: Bool = false) -> Result<FileDescriptor, Errno> {
        open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, inheritable: inheritable)
    }

    func close() {
        _ = CLibc.close(rawValue)
    }

    func status() -> Result<stat, Errno> {
        var info = stat()
        return fstat(rawValue, &info) == 0 ? .success(info) : .failure(.current)
    }

    /// `fstatat` without following a final symlink.
    func status(of path: [UInt8]) -> Result<stat, Errno> {
        var info = stat()
        let result = withCPath(path) { fstatat(rawValue, $0, &info, AT_SYMLINK_NOFOLLOW) }
        return result == 0 ? .success(info) : .failure(.current)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) -> Result<Int, Errno> {
        while true {
            let count = pread(rawValue, buffer.baseAddress, buffer.count, off_t(offset))
            if count >= 0 { return .success(count) }
            if Errno.current != Errno(EINTR) { return .failure(.current) }
        }
    }

    /// Reads exactly `count` bytes at `offset`, or nil when the file ends first.
    func read(count: Int, at offset: UInt64) -> Result<[UInt8]?, Errno> {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let result = bytes.withUnsafeMutableBytes {
                read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...]), at: offset + UInt64(filled))
            }
            switch result {
            case .failure(let errno): return .failure(errno)
            case .success(0): return .success(nil)
            case .success(let n): filled += n
            }
        }
        return .success(bytes)
    }

    /// The file from its start to its end, or its first `limit` bytes.
    func readAll(limit: Int) -> Result<[UInt8], Errno> {
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: min(limit, 1 << 16))
        while contents.count < limit {
            let wanted = min(buffer.count, limit - contents.count)
            let result = buffer.withUnsafeMutableBytes {
                read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<wanted]), at: UInt64(contents.count))
            }
            switch result {
            case .failure(let errno): return .failure(errno)
            case .success(0): return .success(contents)
            case .success(let count): contents.append(contentsOf: buffer[0..<count])
            }
        }
        return .success(contents)
    }

    func writeAll(_ bytes: UnsafeRawBufferPointer) -> Result<Void, Errno> {
        var offset = 0
        while offset < bytes.count {
            let written = write(rawValue, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if Errno.current == Errno(EINTR) { continue }
                return .failure(.current)
            }
            offset += written
        }
        return .success(())
    }

    @discardableResult
    func writeAll(_ bytes: [UInt8]) -> Result<Void, Errno> {
        bytes.withUnsafeBytes { writeAll($0) }
    }

    func lock(_ operation: Int32) -> Result<Void, Errno> {
        while true {
            if flock(rawValue, operation) == 0 { return .success(()) }
            if Errno.current != Errno(EINTR) { return .failure(.current) }
        }
    }

    func makeDirectory(_ name: [UInt8], mode: UInt32) -> Result<Void, Errno> {
        withCPath(name) { mkdirat(rawValue, $0, mode_t(mode)) } == 0 ? .success(()) : .failure(.current)
    }

    func makeSymlink(_ name: [UInt8], target: [UInt8]) -> Result<Void, Errno> {
        let result = withCPath(target) { target in withCPath(name) { symlinkat(target, rawValue, $0) } }
        return result == 0 ? .success(()) : .failure(.current)
    }

    func rename(_ name: [UInt8], to newName: [UInt8]) -> Result<Void, Errno> {
        let result = withCPath(name) { old in withCPath(newName) { renameat(rawValue, old, rawValue, $0) } }
        return result == 0 ? .success(()) : .failure(.current)
    }

    func setMode(_ mode: UInt32) -> Result<Void, Errno> {
        fchmod(rawValue, mode_t(mode)) == 0 ? .success(()) : .failure(.current)
    }

    func removeTree(_ name: [UInt8]) -> Result<Void, Errno> {
        withCPath(name) { batamanta_remove_tree_at(rawValue, $0) } == 0 ? .success(()) : .failure(.current)
    }

    func syncFileSystem() -> Result<Void, Errno> {
        batamanta_syncfs(rawValue) == 0 ? .success(()) : .failure(.current)
    }

    /// Names in this directory except `.` and `..`.
    func entryNames() -> Result<[[UInt8]], Errno> {
        guard case .success(let copy) = open([UInt8(ascii: ".")], O_RDONLY | O_DIRECTORY) else { return .failure(.current) }
        guard let stream = fdopendir(copy.rawValue) else {
            copy.close()
            return .failure(.current)
        }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(name)
        }
        return .success(names)
    }
}

struct Errno: Error, Equatable {
    var rawValue: Int32
    init(_ rawValue: Int32) { self.rawValue = rawValue }
    static var current: Errno { Errno(batamanta_errno()) }

    /// glibc's texts for the errors we expect; strerror itself would link in gettext and
    /// its locale tables, a sizeable part of the dispenser.
    var description: [UInt8] {
        let text: StaticString
        switch rawValue {
        case EPERM: text = "Operation not permitted"
        case ENOENT: text = "No such file or directory"
        case EIO: text = "Input/output error"
        case E2BIG: text = "Argument list too long"
        case ENOEXEC: text = "Exec format error"
        case ENOMEM: text = "Cannot allocate memory"
        case EACCES: text = "Permission denied"
        case EEXIST: text = "File exists"
        case ENOTDIR: text = "Not a directory"
        case EISDIR: text = "Is a directory"
        case EMFILE: text = "Too many open files"
        case ETXTBSY: text = "Text file busy"
        case EFBIG: text = "File too large"
        case ENOSPC: text = "No space left on device"
        case EROFS: text = "Read-only file system"
        case ENAMETOOLONG: text = "File name too long"
        case ENOTEMPTY: text = "Directory not empty"
        case ELOOP: text = "Too many levels of symbolic links"
        case EDQUOT: text = "Disk quota exceeded"
        default: return joined(Array("error ".utf8), decimalDigits(UInt64(rawValue)))
        }
        return bytes(text)
    }
}
