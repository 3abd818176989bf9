import CLibc

/// `<app>.pid` holds the VM's pid and, on a second line, the extraction root it runs
/// from. A pid counts as our daemon only while that process is alive and its executable
/// lies under that root, so a pid file left by a killed VM, or whose pid the kernel has
/// since given to another program, is recognized as stale. Keeping the root in the file
/// (rather than recomputing it) lets a newer build of the binary stop an older daemon.
struct PidFile {
    var pid: Int32
    var root: [UInt8]

    var pidText: [UInt8] { decimalDigits(UInt64(pid)) }

    static func read(_ state: StateDirectory) throws(DaemonFailure) -> PidFile? {
        guard let contents = try state.read(state.pidName, limit: 8192) else { return nil }
        let lines = contents.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard lines.count >= 2, let pid = decimalValue(lines[0], maxDigits: 9), pid > 1, lines[1].first == slash else { return nil }
        return PidFile(pid: Int32(pid), root: Array(lines[1]))
    }

    func write(_ state: StateDirectory) throws(DaemonFailure) {
        try state.write(state.pidName, joined(pidText, [UInt8(ascii: "\n")], root, [UInt8(ascii: "\n")]))
    }

    var isOurRunningVM: Bool {
        guard Platform.isAlive(pid), let executable = Platform.executable(of: pid) else { return false }
        return executable.starts(with: joined(root, [slash]))
    }

    /// The daemon if it runs. A pid file that looks stale is left alone: between `start`
    /// writing it and its VM's exec, it names a process that does not run the VM yet. Only
    /// holders of the state lock (`start` rewrites it, `stop` deletes it) may judge it.
    static func running(_ state: StateDirectory) throws(DaemonFailure) -> PidFile? {
        guard let file = try read(state), file.isOurRunningVM else { return nil }
        return file
    }
}
