import CLibc

/// `start`: extract if needed, detach the VM from the terminal and this process, and
/// return once it has finished booting. The VM is a grandchild in a session of its own
/// (setsid, then a second fork so it is not a session leader and can never acquire a
/// controlling terminal), with stdin from /dev/null and stdout/stderr appended to the
/// log: closing the terminal that started it sends it nothing.
enum Start {
    static func run(_ image: SelfImage, state: StateDirectory, arguments: [[UInt8]], timeout: Int) -> Result<Int32, DaemonFailure> {
        let lock: FileDescriptor
        switch state.lock() {
        case .success(let held): lock = held
        case .failure(let failure): return .failure(failure)
        }
        defer { lock.close() }

        switch PidFile.running(state) {
        case .failure(let failure): return .failure(failure)
        case .success(let running?):
            return .failure(.refused(state.app, Array(" is already running (pid ".utf8), running.pidText, Array(")".utf8)))
        case .success(nil): break
        }

        let launch: Launch
        switch prepareLaunch(image) {
        case .success(let prepared): launch = prepared
        case .failure(let failure): return .failure(.core(failure))
        }
        let cookie: [UInt8]
        switch state.cookie() {
        case .success(let made): cookie = made
        case .failure(let failure): return .failure(failure)
        }
        state.remove(state.readyName)
        let log: FileDescriptor
        switch state.descriptor.open(state.logName, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, mode: 0o600) {
        case .success(let fd): log = fd
        case .failure(let errno): return .failure(.system(errno, path: state.pathOf(state.logName), "cannot open log", otherwise: .ioError))
        }
        defer { log.close() }

        let environment = [
            joined(Array("RELEASE_COOKIE=".utf8), cookie),
            joined(Array("BATAMANTA_READY_FILE=".utf8), state.pathOf(state.readyName)),
        ]
        let pid: Int32
        switch Detach.spawn(launch, arguments: arguments, environment: environment, output: log) {
        case .success(let spawned): pid = spawned
        case .failure(let failure): return .failure(failure)
        }
        let pidFile = PidFile(pid: pid, root: launch.root)
        if case .failure(let failure) = pidFile.write(state) {
            ProcessInfo.signal(pid, SIGKILL)
            return .failure(failure)
        }

        var ready = false
        let settled = ProcessInfo.waitUntil(timeout: timeout * 1000) {
            if case .success(let contents?) = state.read(state.readyName, limit: 64), contents == pidFile.pidText {
                ready = true
                return true
            }
            return !ProcessInfo.isAlive(pid)
        }
        state.remove(state.readyName)
        if ready {
            say(Array("started ".utf8), state.app, Array(" (pid ".utf8), pidFile.pidText, Array("), log: ".utf8), state.pathOf(state.logName))
            return .success(0)
        }
        // A VM that neither came up nor died in time is killed, so a failed start never
        // leaves a half-started daemon that `status` would report as running.
        if !settled { ProcessInfo.signal(pid, SIGKILL) }
        state.remove(state.pidName)
        Logs.printTail(state, to: .standardError)
        let why: [UInt8] = settled
            ? Array(" exited before its boot finished; the end of its log is above".utf8)
            : joined(Array(" did not finish booting within ".utf8), decimalDigits(UInt64(timeout)), Array(" s (start --timeout N) and was killed; the end of its log is above".utf8))
        return .failure(.refused(state.app, Array(" (pid ".utf8), pidFile.pidText, Array(")".utf8), why))
    }
}

/// The double fork. The intermediate child reports the grandchild's pid through a pipe
/// and exits at once, so the VM is reparented to init (or the nearest subreaper).
enum Detach {
    static func spawn(_ launch: Launch, arguments: [[UInt8]], environment: [[UInt8]], output: FileDescriptor) -> Result<Int32, DaemonFailure> {
        var ends: [Int32] = [-1, -1]
        guard ends.withUnsafeMutableBufferPointer({ bm_proc_pipe($0.baseAddress!) }) == 0 else {
            return .failure(.system(.current, path: [], "cannot create a pipe"))
        }
        let reader = FileDescriptor(rawValue: ends[0])
        let writer = FileDescriptor(rawValue: ends[1])
        let child = fork()
        if child < 0 {
            reader.close()
            writer.close()
            return .failure(.system(.current, path: [], "cannot fork"))
        }
        if child == 0 {
            reader.close()
            _ = setsid()
            let grandchild = fork()
            if grandchild == 0 {
                writer.close()
                becomeDaemon(launch, arguments: arguments, environment: environment, output: output)
            }
            var report = grandchild < 0 ? -Errno.current.rawValue : grandchild
            _ = withUnsafeBytes(of: &report) { writer.writeAll($0) }
            _exit(0)
        }
        writer.close()
        var value: Int32 = 0
        var filled = 0
        while filled < 4 {
            let count = withUnsafeMutableBytes(of: &value) { CLibc.read(reader.rawValue, $0.baseAddress! + filled, 4 - filled) }
            if count > 0 {
                filled += count
            } else if count == 0 || Errno.current != Errno(EINTR) {
                break
            }
        }
        reader.close()
        _ = waitForChild(child)
        guard filled == 4 else { return .failure(.system(.current, path: [], "cannot start the daemon process")) }
        if value <= 0 { return .failure(.system(Errno(-value), path: [], "cannot fork")) }
        return .success(value)
    }

    /// In the grandchild: standard streams, environment, exec. A failure is written to
    /// the log, where `start` shows it.
    private static func becomeDaemon(_ launch: Launch, arguments: [[UInt8]], environment: [[UInt8]], output: FileDescriptor) -> Never {
        if case .success(let null) = FileDescriptor.currentDirectory.open(Array("/dev/null".utf8), O_RDONLY) {
            _ = dup2(null.rawValue, 0)
            null.close()
        }
        _ = dup2(output.rawValue, 1)
        _ = dup2(output.rawValue, 2)
        withCPath(launch.root) { bm_daemon_close_inherited($0) }
        launch.exec(userArguments: arguments, environment: environment).report()
        _exit(ExitCode.osError.rawValue)
    }
}
