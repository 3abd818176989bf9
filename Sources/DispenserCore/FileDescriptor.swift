import CLibc

/// An owned-by-convention file descriptor with the handful of operations we need, in the
/// style of swift-system: each is one system call, retried when a signal interrupts it,
/// and reports errors as errno values that callers turn into failures with a path.
struct FileDescriptor {
    var rawValue: Int32

    static let standardOutput = FileDescriptor(rawValue: 1)
    static let standardError = FileDescriptor(rawValue: 2)
    static let currentDirectory = FileDescriptor(rawValue: AT_FDCWD)

    /// Opens `path` relative to this directory. Descriptors are close-on-exec unless
    /// `inheritable`, which the extraction lock needs so the VM keeps holding it.
    func open(_ path: [UInt8], _ flags: Int32, mode: UInt32 = 0, inheritable: Bool = false) -> Result<FileDescriptor, Errno> {
        valueOrErrno { withCPath(path) { bm_openat(rawValue, $0, flags | (inheritable ? 0 : O_CLOEXEC), mode_t(mode)) } }
            .map { FileDescriptor(rawValue: $0) }
    }

    func openDirectory(_ path: [UInt8], inheritable: Bool = false) -> Result<FileDescriptor, Errno> {
        open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, inheritable: inheritable)
    }

    /// Not retried: Linux releases the descriptor even when close reports EINTR.
    func close() {
        _ = CLibc.close(rawValue)
    }

    func status() -> Result<stat, Errno> {
        var info = stat()
        return nothingOrErrno { fstat(rawValue, &info) }.map { info }
    }

    /// `fstatat`, by default without following a final symlink.
    func status(of path: [UInt8], followingSymlinks: Bool = false) -> Result<stat, Errno> {
        var info = stat()
        let flags = followingSymlinks ? 0 : AT_SYMLINK_NOFOLLOW
        return nothingOrErrno { withCPath(path) { fstatat(rawValue, $0, &info, flags) } }.map { info }
    }

    /// Reads at the current position; 0 bytes means end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
        valueOrErrno { CLibc.read(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// Reads at `offset` without moving the position; 0 bytes means end of file.
    func read(fromAbsoluteOffset offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
        valueOrErrno { pread(rawValue, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    /// Fills `buffer`, from `offset` or (when nil) from the current position.
    func read(exactly buffer: UnsafeMutableRawBufferPointer, fromAbsoluteOffset offset: UInt64? = nil) -> Result<Void, ReadFailure> {
        var filled = 0
        while filled < buffer.count {
            let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[filled...])
            let result = offset.map { read(fromAbsoluteOffset: $0 + UInt64(filled), into: rest) } ?? read(into: rest)
            switch result {
            case .failure(let errno): return .failure(.system(errno))
            case .success(0): return .failure(.endOfFile)
            case .success(let count): filled += count
            }
        }
        return .success(())
    }

    /// Exactly `count` bytes at `offset`.
    func read(count: Int, fromAbsoluteOffset offset: UInt64) -> Result<[UInt8], ReadFailure> {
        var bytes = [UInt8](repeating: 0, count: count)
        return bytes.withUnsafeMutableBytes { read(exactly: $0, fromAbsoluteOffset: offset) }.map { bytes }
    }

    /// The file from its start to its end, or its first `limit` bytes.
    func readAll(limit: Int) -> Result<[UInt8], Errno> {
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: min(limit, 1 << 16))
        while contents.count < limit {
            let wanted = min(buffer.count, limit - contents.count)
            let result = buffer.withUnsafeMutableBytes {
                read(fromAbsoluteOffset: UInt64(contents.count), into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<wanted]))
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
            switch valueOrErrno({ write(rawValue, bytes.baseAddress! + offset, bytes.count - offset) }) {
            case .failure(let errno): return .failure(errno)
            case .success(let written): offset += written
            }
        }
        return .success(())
    }

    @discardableResult
    func writeAll(_ bytes: [UInt8]) -> Result<Void, Errno> {
        bytes.withUnsafeBytes { writeAll($0) }
    }

    func lock(_ operation: Int32) -> Result<Void, Errno> {
        nothingOrErrno { flock(rawValue, operation) }
    }

    func makeDirectory(_ name: [UInt8], mode: UInt32) -> Result<Void, Errno> {
        nothingOrErrno { withCPath(name) { mkdirat(rawValue, $0, mode_t(mode)) } }
    }

    func makeSymlink(_ name: [UInt8], target: [UInt8]) -> Result<Void, Errno> {
        nothingOrErrno { withCPath(target) { target in withCPath(name) { symlinkat(target, rawValue, $0) } } }
    }

    func rename(_ name: [UInt8], to newName: [UInt8]) -> Result<Void, Errno> {
        nothingOrErrno { withCPath(name) { old in withCPath(newName) { renameat(rawValue, old, rawValue, $0) } } }
    }

    func remove(_ name: [UInt8]) -> Result<Void, Errno> {
        nothingOrErrno { withCPath(name) { unlinkat(rawValue, $0, 0) } }
    }

    func setMode(_ mode: UInt32) -> Result<Void, Errno> {
        nothingOrErrno { fchmod(rawValue, mode_t(mode)) }
    }

    func removeTree(_ name: [UInt8]) -> Result<Void, Errno> {
        nothingOrErrno { withCPath(name) { bm_remove_tree_at(rawValue, $0) } }
    }

    /// A hint: a failure (a file system without writeback, say) leaves the later
    /// `synchronizeData` to do all the work.
    func startWriteback() {
        _ = Platform.startWriteback(rawValue)
    }

    /// fdatasync(2): the contents, and the metadata needed to read them back, are on disk.
    func synchronizeData() -> Result<Void, Errno> {
        nothingOrErrno { fdatasync(rawValue) }
    }

    /// fsync(2); for a directory, its entries are on disk.
    func synchronize() -> Result<Void, Errno> {
        nothingOrErrno { fsync(rawValue) }
    }

    /// Names in this directory except `.` and `..`.
    func entryNames() -> Result<[[UInt8]], Errno> {
        let copy: FileDescriptor
        switch open([UInt8(ascii: ".")], O_RDONLY | O_DIRECTORY) {
        case .success(let fd): copy = fd
        case .failure(let errno): return .failure(errno)
        }
        guard let stream = fdopendir(copy.rawValue) else {
            let errno = Errno.current
            copy.close()
            return .failure(errno)
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

/// Why `read(exactly:)` did not fill its buffer.
enum ReadFailure: Error {
    /// The file ended first: for most callers a corrupt or truncated file, not an I/O error.
    case endOfFile
    case system(Errno)
}

/// Calls `call` until a signal no longer interrupts it; -1 means errno holds the error,
/// as for nearly every system call. The one retry loop of the dispensers.
func valueOrErrno<Value: FixedWidthInteger>(retryOnInterrupt: Bool = true, _ call: () -> Value) -> Result<Value, Errno> {
    while true {
        let value = call()
        if value != -1 { return .success(value) }
        let errno = Errno.current
        if !retryOnInterrupt || errno != Errno(EINTR) { return .failure(errno) }
    }
}

func nothingOrErrno<Value: FixedWidthInteger>(retryOnInterrupt: Bool = true, _ call: () -> Value) -> Result<Void, Errno> {
    valueOrErrno(retryOnInterrupt: retryOnInterrupt, call).map { _ in () }
}

extension Result {
    /// The value, or the failure `describe` makes of the error: where a system call's errno
    /// meets the caller's typed throws.
    func orThrow<Thrown: Error>(_ describe: (Failure) -> Thrown) throws(Thrown) -> Success {
        switch self {
        case .success(let value): return value
        case .failure(let error): throw describe(error)
        }
    }
}

struct Errno: Error, Equatable {
    var rawValue: Int32
    init(_ rawValue: Int32) { self.rawValue = rawValue }
    static var current: Errno { Errno(bm_errno()) }

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
