import CLibc

/// `logs [-f]`: the daemon's log on stdout; `-f` then keeps printing what is appended,
/// starting over when the log is truncated, until interrupted.
enum Logs {
    static func run(_ state: StateDirectory, follow: Bool) throws(DaemonFailure) -> Int32 {
        let log: FileDescriptor
        switch state.descriptor.open(state.logName, O_RDONLY | O_NOFOLLOW) {
        case .success(let fd): log = fd
        case .failure(let errno) where errno == Errno(ENOENT) && !follow:
            throw .refused(state.app, Array(" has no log yet: ".utf8), state.pathOf(state.logName))
        case .failure(let errno) where errno == Errno(ENOENT):
            _ = ProcessInfo.waitUntil(timeout: Int.max / 2, interval: 200) {
                if case .success(let fd) = state.descriptor.open(state.logName, O_RDONLY | O_NOFOLLOW) {
                    fd.close()
                    return true
                }
                return false
            }
            return try run(state, follow: true)
        case .failure(let errno):
            throw .system(errno, path: state.pathOf(state.logName), "cannot open log", otherwise: .ioError)
        }
        defer { log.close() }
        var offset: UInt64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try buffer.withUnsafeMutableBytes { log.read(fromAbsoluteOffset: offset, into: $0) }.orThrow {
                DaemonFailure.system($0, path: state.pathOf(state.logName), "cannot read", otherwise: .ioError)
            }
            if count > 0 {
                offset += UInt64(count)
                let written = buffer.withUnsafeBytes { FileDescriptor.standardOutput.writeAll(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                if case .failure = written { return 0 }
            } else {
                guard follow else { return 0 }
                if case .success(let info) = log.status(), UInt64(info.st_size) < offset { offset = 0 }
                ProcessInfo.sleep(milliseconds: 200)
            }
        }
    }

    /// The last lines of the log (at most 4 KiB), for a failed start.
    static func printTail(_ state: StateDirectory, to output: FileDescriptor) {
        guard case .success(let log) = state.descriptor.open(state.logName, O_RDONLY | O_NOFOLLOW) else { return }
        defer { log.close() }
        guard case .success(let info) = log.status() else { return }
        let size = UInt64(info.st_size)
        let start = size > 4096 ? size - 4096 : 0
        guard case .success(let tail) = log.read(count: Int(size - start), fromAbsoluteOffset: start) else { return }
        var lines = tail[...]
        if start > 0, let newline = lines.firstIndex(of: UInt8(ascii: "\n")) { lines = lines[(newline + 1)...] }
        output.writeAll(Array(lines))
    }
}
