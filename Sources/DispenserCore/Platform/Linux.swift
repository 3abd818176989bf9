import CLibc

/// Every call the dispensers make that is specific to Linux, with its C side in
/// CLibc/platform_linux.c (argv from the initial stack, sync_file_range, pipe2, close_range). A port
/// to another system replaces these two files; the rest of the dispensers is POSIX.
enum Platform {
    /// Opens this very executable, whatever argv[0] says and even after it was replaced.
    static let ownExecutable: [UInt8] = Array("/proc/self/exe".utf8)

    /// Starts writing the file's dirty pages to disk without waiting for them, so the
    /// fdatasync that later makes it durable finds the work done. Only the file's own
    /// pages: unlike syncfs, it never waits for other programs' writes.
    static func startWriteback(_ descriptor: Int32) -> Int32 { bm_start_writeback(descriptor) }

    static func fillRandom(_ buffer: UnsafeMutableRawBufferPointer) {
        _ = getrandom(buffer.baseAddress, buffer.count, 0)
    }

    /// pipe(2) with both ends close-on-exec from the start; 0 or -1 with errno set.
    static func makePipe(_ ends: UnsafeMutablePointer<Int32>) -> Int32 { bm_pipe_cloexec(ends) }

    /// Closes every descriptor above stderr except `kept`.
    static func closeDescriptors(keeping kept: Int32) { bm_close_descriptors_except(kept) }

    /// The directory above `directory`, opened with O_PATH: only search permission on
    /// `directory` is needed, and fstat works on it.
    static func openParent(_ directory: FileDescriptor) -> Result<FileDescriptor, Errno> {
        directory.open(Array("..".utf8), O_PATH | O_DIRECTORY)
    }

    /// The path the kernel has for an open descriptor, for messages.
    static func path(of descriptor: FileDescriptor) -> [UInt8]? {
        linkTarget(joined(Array("/proc/self/fd/".utf8), decimalDigits(UInt64(descriptor.rawValue))))
    }

    /// Alive and not a zombie: a VM that died but is not reaped yet is not running.
    static func isAlive(_ pid: Int32) -> Bool {
        let path = joined(Array("/proc/".utf8), decimalDigits(UInt64(pid)), Array("/stat".utf8))
        guard case .success(let file) = FileDescriptor.currentDirectory.open(path, O_RDONLY) else { return false }
        defer { file.close() }
        var buffer = [UInt8](repeating: 0, count: 512)
        guard case .success(let count) = buffer.withUnsafeMutableBytes({ file.read(fromAbsoluteOffset: 0, into: $0) }), count > 0 else { return false }
        // `pid (comm) S ...`: comm may contain anything, so the state follows the last ')'.
        guard let close = buffer[0..<count].lastIndex(of: UInt8(ascii: ")")), close + 2 < count else { return false }
        let state = buffer[close + 2]
        return state != UInt8(ascii: "Z") && state != UInt8(ascii: "X")
    }

    /// True once `pid` and every thread of it have exited, so that nothing it held (its
    /// descriptors, and the locks on them) is held any more. `isAlive` and `executable(of:)`
    /// turn false as soon as the main thread exits, while the other threads may still be
    /// closing the descriptors they share with it: the kernel counts a thread in `Threads:`
    /// until it is past that.
    static func hasExited(_ pid: Int32) -> Bool {
        guard !isAlive(pid) else { return false }
        let status = SystemLibraries.contents(of: joined(Array("/proc/".utf8), decimalDigits(UInt64(pid)), Array("/status".utf8)))
        let prefix = bytes("Threads:")
        guard let line = status.split(separator: UInt8(ascii: "\n")).first(where: { $0.starts(with: prefix) }) else { return true }
        return Array(line.dropFirst(prefix.count).drop { $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: " ") }) == Array("1".utf8)
    }

    /// The program `pid` runs: the target of /proc/<pid>/exe, or nil when it is gone or
    /// belongs to another user. Under user-mode emulation (qemu-user through binfmt_misc,
    /// which starts the emulator as `<emulator> <program> <args>`) /proc/<pid>/exe is the
    /// emulator, so there the program is the one the emulator was handed: only when the
    /// executable is named qemu-* and argv[0] is that same path, so that no ordinary
    /// process passes for whatever file its first argument names.
    static func executable(of pid: Int32) -> [UInt8]? {
        let proc = joined(Array("/proc/".utf8), decimalDigits(UInt64(pid)))
        guard let exe = linkTarget(joined(proc, Array("/exe".utf8))) else { return nil }
        guard exe.split(separator: slash).last?.starts(with: Array("qemu-".utf8)) == true else { return exe }
        let argv = SystemLibraries.contents(of: joined(proc, Array("/cmdline".utf8)))
            .split(separator: 0, omittingEmptySubsequences: false)
        guard argv.count > 1, Array(argv[0]) == exe, argv[1].first == slash else { return exe }
        return Array(argv[1])
    }

    /// sigwaitinfo(2): the next of the blocked `signals`, or -1 with errno set.
    static func waitForSignal(_ signals: inout sigset_t, _ info: inout siginfo_t) -> Int32 {
        sigwaitinfo(&signals, &info)
    }

    /// Whether the kernel itself sent the signal (the terminal driver does, to the whole
    /// foreground process group), rather than a process.
    static func isFromKernel(_ info: siginfo_t) -> Bool { info.si_code == SI_KERNEL }
}
