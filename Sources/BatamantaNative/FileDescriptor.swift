import Glibc

/// An owned file descriptor with the few operations the commands need. Errors come back
/// as `CommandError`s that name the path, so commands can just `try`.
final class FileDescriptor {
    let rawValue: Int32
    let path: FilePath
    private var isOpen = true

    private init(rawValue: Int32, path: FilePath) {
        self.rawValue = rawValue
        self.path = path
    }

    deinit {
        if isOpen { _ = Glibc.close(rawValue) }
    }

    static func open(_ path: FilePath, _ flags: Int32, mode: mode_t = 0o644) throws(CommandError) -> FileDescriptor {
        switch opening(path, flags, mode: mode) {
        case .success(let descriptor): return descriptor
        case .failure(let errno): throw CommandError(errno, "open", path)
        }
    }

    /// `open` with the errno left to the caller, for callers that act on some of them.
    static func opening(_ path: FilePath, _ flags: Int32, mode: mode_t = 0o644) -> Result<FileDescriptor, Errno> {
        retryingOnInterrupt { path.withCString { Glibc.open($0, flags | O_CLOEXEC, mode) } }
            .map { FileDescriptor(rawValue: $0, path: path) }
    }

    static func openForReading(_ path: FilePath) throws(CommandError) -> FileDescriptor {
        try open(path, O_RDONLY)
    }

    /// Takes ownership of an fd opened elsewhere (mkostemp).
    static func adopt(_ rawValue: Int32, path: FilePath) -> FileDescriptor {
        FileDescriptor(rawValue: rawValue, path: path)
    }

    /// Adopts an fd the process was started with (stdin/stdout); never closed.
    static func standard(_ rawValue: Int32, name: FilePath) -> FileDescriptor {
        let descriptor = FileDescriptor(rawValue: rawValue, path: name)
        descriptor.isOpen = false
        return descriptor
    }

    /// Reads up to `buffer.count` bytes; 0 means end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(CommandError) -> Int {
        let result = retryingOnInterrupt { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
        switch result {
        case .success(let count): return count
        case .failure(let errno): throw CommandError(errno, "read", path)
        }
    }

    /// Reads up to `buffer.count` bytes at `offset`, leaving the file position alone;
    /// 0 means end of file.
    func read(fromAbsoluteOffset offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(CommandError) -> Int {
        let result = retryingOnInterrupt { Glibc.pread(rawValue, buffer.baseAddress, buffer.count, off_t(offset)) }
        switch result {
        case .success(let count): return count
        case .failure(let errno): throw CommandError(errno, "read", path)
        }
    }

    /// Fills `buffer` unless the file ends first; returns how many bytes were read.
    func readFully(into buffer: UnsafeMutableRawBufferPointer) throws(CommandError) -> Int {
        var total = 0
        while total < buffer.count {
            let count = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[total...]))
            if count == 0 { break }
            total += count
        }
        return total
    }

    /// Reads into the first `count` bytes of `bytes`, stopping early only at end of file.
    func readFully(into bytes: inout [UInt8], count: Int) throws(CommandError) -> Int {
        try bytes.withMutableBytes { (buffer) throws(CommandError) in
            try readFully(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<count]))
        }
    }

    /// Fills `buffer` from `offset`. The file ending first is `.endOfFile`, which only the
    /// caller can name: a truncated payload, a file that is not what it claims.
    func read(exactlyFromAbsoluteOffset offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(ExactReadError) {
        var total = 0
        while total < buffer.count {
            let count: Int
            do {
                count = try read(fromAbsoluteOffset: offset + UInt64(total), into: UnsafeMutableRawBufferPointer(rebasing: buffer[total...]))
            } catch {
                throw .failed(error)
            }
            guard count > 0 else { throw .endOfFile }
            total += count
        }
    }

    /// `count` bytes from `offset`, as `read(exactlyFromAbsoluteOffset:into:)`.
    func read(exactly count: Int, fromAbsoluteOffset offset: UInt64) throws(ExactReadError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withMutableBytes { (buffer) throws(ExactReadError) in try read(exactlyFromAbsoluteOffset: offset, into: buffer) }
        return bytes
    }

    func writeAll(_ buffer: UnsafeRawBufferPointer) throws(CommandError) {
        var written = 0
        while written < buffer.count {
            let result = retryingOnInterrupt {
                Glibc.write(rawValue, buffer.baseAddress! + written, buffer.count - written)
            }
            switch result {
            case .success(let count): written += count
            case .failure(let errno): throw CommandError(errno, "write", path)
            }
        }
    }

    func writeAll(_ bytes: [UInt8]) throws(CommandError) {
        try bytes.withBytes(writeAll)
    }

    func status() throws(CommandError) -> stat {
        var info = stat()
        guard fstat(rawValue, &info) == 0 else { throw CommandError(.current, "stat", path) }
        return info
    }

    func truncate() throws(CommandError) {
        guard ftruncate(rawValue, 0) == 0, lseek(rawValue, 0, SEEK_SET) == 0 else {
            throw CommandError(.current, "truncate", path)
        }
    }

    func setMode(_ mode: mode_t) throws(CommandError) {
        guard fchmod(rawValue, mode) == 0 else { throw CommandError(.current, "chmod", path) }
    }

    func synchronize() throws(CommandError) {
        guard fsync(rawValue) == 0 else { throw CommandError(.current, "fsync", path) }
    }

    func close() throws(CommandError) {
        guard isOpen else { return }
        isOpen = false
        guard Glibc.close(rawValue) == 0 else { throw CommandError(.current, "close", path) }
    }
}

/// Why `FileDescriptor.read(exactly...)` did not fill its buffer.
enum ExactReadError: Error {
    /// The file ended first.
    case endOfFile
    case failed(CommandError)
}
