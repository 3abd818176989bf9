import CLibc

/// What /proc and the clock say about processes; thin over the system calls.
enum ProcessInfo {
    /// Alive and not a zombie: a VM that died but is not reaped yet is not running.
    static func isAlive(_ pid: Int32) -> Bool {
        let path = joined(Array("/proc/".utf8), decimalDigits(UInt64(pid)), Array("/stat".utf8))
        guard case .success(let file) = FileDescriptor.currentDirectory.open(path, O_RDONLY) else { return false }
        defer { file.close() }
        var buffer = [UInt8](repeating: 0, count: 512)
        guard case .success(let count) = buffer.withUnsafeMutableBytes({ file.read(into: $0, at: 0) }), count > 0 else { return false }
        // `pid (comm) S ...`: comm may contain anything, so the state follows the last ')'.
        guard let close = buffer[0..<count].lastIndex(of: UInt8(ascii: ")")), close + 2 < count else { return false }
        let state = buffer[close + 2]
        return state != UInt8(ascii: "Z") && state != UInt8(ascii: "X")
    }

    /// The program the process runs: the target of /proc/<pid>/exe, or nil when it is gone
    /// or belongs to another user. Under user-mode emulation (qemu-user through binfmt_misc,
    /// which starts the emulator as `<emulator> <program> <args>`) /proc/<pid>/exe is the
    /// emulator, so there the program is the one the emulator was handed: only when the
    /// executable is named qemu-* and argv[0] is that same path, so that no ordinary
    /// process passes for whatever file its first argument names.
    static func executable(_ pid: Int32) -> [UInt8]? {
        let proc = joined(Array("/proc/".utf8), decimalDigits(UInt64(pid)))
        guard let exe = linkTarget(joined(proc, Array("/exe".utf8))) else { return nil }
        guard exe.split(separator: slash).last?.starts(with: Array("qemu-".utf8)) == true else { return exe }
        let argv = SystemLibraries.contents(of: joined(proc, Array("/cmdline".utf8)))
            .split(separator: 0, omittingEmptySubsequences: false)
        guard argv.count > 1, Array(argv[0]) == exe, argv[1].first == slash else { return exe }
        return Array(argv[1])
    }

    static func signal(_ pid: Int32, _ signal: Int32) {
        _ = kill(pid, signal)
    }

    static func milliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    static func sleep(milliseconds: Int) {
        var duration = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&duration, &remaining) != 0, Errno.current == Errno(EINTR) { duration = remaining }
    }

    /// Polls `done` every `interval` ms until it holds or `timeout` ms have passed.
    static func waitUntil(timeout: Int, interval: Int = 50, _ done: () -> Bool) -> Bool {
        let deadline = milliseconds() + Int64(timeout)
        while true {
            if done() { return true }
            if milliseconds() >= deadline { return false }
            sleep(milliseconds: interval)
        }
    }
}
