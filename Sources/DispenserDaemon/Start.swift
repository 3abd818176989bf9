import CLibc

/// `start`: extract if needed, detach the VM from the terminal and this process, and
/// return once it has finished booting. The VM is a grandchild in a session of its own
/// (setsid, then a second fork so it is not a session leader and can never acquire a
/// controlling terminal), with stdin from /dev/null and stdout/stderr appended to the
/// log: closing the terminal that started it sends it nothing.
enum Start {
    static func run(_ image: SelfImage, node: Node, state: StateDirectory, arguments: [[UInt8]], timeout: Int) throws(DaemonFailure) -> Int32 {
        let lock = try state.lock()
        defer { lock.close() }
        let (launch, environment) = try prepare(image, node: node, state: state)
        state.remove(state.readyName)
        let log = try state.descriptor.open(state.logName, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, mode: 0o600).orThrow {
            DaemonFailure.system($0, path: state.pathOf(state.logName), "cannot open log", otherwise: .ioError)
        }
        defer { log.close() }

        let ready = joined(Array("BATAMANTA_READY_FILE=".utf8), state.pathOf(state.readyName))
        let pid = try Detach.spawn(launch, arguments: arguments, vmArguments: node.vmArguments, environment: environment + [ready], output: log)
        let pidFile = PidFile(pid: pid, root: launch.root)
        do throws(DaemonFailure) {
            try pidFile.write(state)
        } catch {
            ProcessInfo.signal(pid, SIGKILL)
            throw error
        }

        var signalled = false
        let settled = ProcessInfo.waitUntil(timeout: timeout * 1000) {
            if let contents = (try? state.read(state.readyName, limit: 64)) ?? nil, contents == pidFile.pidText {
                signalled = true
                return true
            }
            return !Platform.isAlive(pid)
        }
        state.remove(state.readyName)
        // The ready file comes only once the applications have stayed up a while (the
        // launch spec's ready check), so a VM still alive now counts as started.
        let died = signalled && !Platform.isAlive(pid)
        if signalled && !died {
            say(Array("started ".utf8), state.app, Array(" (pid ".utf8), pidFile.pidText, Array("), log: ".utf8), state.pathOf(state.logName))
            return 0
        }
        // A VM that neither came up nor died in time is killed, so a failed start never
        // leaves a half-started daemon that `status` would report as running.
        if !settled { ProcessInfo.signal(pid, SIGKILL) }
        state.remove(state.pidName)
        Logs.printTail(state, to: .standardError)
        let why: [UInt8] = died
            ? Array(" stopped right after its boot finished; the end of its log is above".utf8)
            : settled
            ? Array(" exited before its boot finished; the end of its log is above".utf8)
            : joined(Array(" did not finish booting within ".utf8), decimalDigits(UInt64(timeout)), Array(" s (start --timeout N) and was killed; the end of its log is above".utf8))
        throw .refused(state.app, Array(" (pid ".utf8), pidFile.pidText, Array(")".utf8), why)
    }

    /// `foreground`: the VM replaces this process, attached to its streams, so a
    /// supervisor (systemd `Type=exec`, a container, runit) sees its output, signals it
    /// directly (SIGTERM stops the applications in order) and gets its exit status. The
    /// pid file names this very process, which keeps its pid across exec, so `status`,
    /// `stop` and `rpc` work as for a detached daemon.
    static func foreground(_ image: SelfImage, node: Node, state: StateDirectory, arguments: [[UInt8]]) throws(DaemonFailure) -> Never {
        let lock = try state.lock()
        let launch: Launch
        let environment: [[UInt8]]
        do throws(DaemonFailure) {
            (launch, environment) = try prepare(image, node: node, state: state)
            try PidFile(pid: getpid(), root: launch.root).write(state)
        } catch {
            lock.close()
            throw error
        }
        lock.close()
        try core { () throws(Failure) in try launch.exec(userArguments: arguments, vmArguments: node.vmArguments, environment: environment) }
    }

    /// Under the state lock: refuses a second instance, extracts, and gives the VM's
    /// environment (cookie, node, HOME when ours is unusable).
    private static func prepare(_ image: SelfImage, node: Node, state: StateDirectory) throws(DaemonFailure) -> (Launch, [[UInt8]]) {
        if let running = try PidFile.running(state) {
            throw .refused(state.app, Array(" is already running (pid ".utf8), running.pidText, Array(")".utf8))
        }
        let launch = try core { () throws(Failure) in try prepareLaunch(image) }
        return (launch, try node.environment(state))
    }
}

/// The double fork. The intermediate child reports the grandchild's pid through a pipe
/// and exits at once, so the VM is reparented to init (or the nearest subreaper).
enum Detach {
    static func spawn(_ launch: Launch, arguments: [[UInt8]], vmArguments: [[UInt8]], environment: [[UInt8]], output: FileDescriptor) throws(DaemonFailure) -> Int32 {
        let (reader, writer) = try ProcessInfo.pipe()
        let child = fork()
        if child < 0 {
            let errno = Errno.current
            reader.close()
            writer.close()
            throw .system(errno, path: [], "cannot fork")
        }
        if child == 0 {
            reader.close()
            _ = setsid()
            let grandchild = fork()
            if grandchild == 0 {
                writer.close()
                becomeDaemon(launch, arguments: arguments, vmArguments: vmArguments, environment: environment, output: output)
            }
            var report = grandchild < 0 ? -Errno.current.rawValue : grandchild
            _ = withUnsafeBytes(of: &report) { writer.writeAll($0) }
            _exit(0)
        }
        writer.close()
        var value: Int32 = 0
        let reported = withUnsafeMutableBytes(of: &value) { reader.read(exactly: $0) }
        reader.close()
        _ = waitForChild(child)
        try reported.orThrow { failure in
            switch failure {
            case .endOfFile: return DaemonFailure.system(Errno(0), path: [], "cannot start the daemon process")
            case .system(let errno): return DaemonFailure.system(errno, path: [], "cannot start the daemon process")
            }
        }
        if value <= 0 { throw .system(Errno(-value), path: [], "cannot fork") }
        return value
    }

    /// In the grandchild: standard streams, environment, exec. A failure is written to
    /// the log, where `start` shows it.
    private static func becomeDaemon(_ launch: Launch, arguments: [[UInt8]], vmArguments: [[UInt8]], environment: [[UInt8]], output: FileDescriptor) -> Never {
        if case .success(let null) = FileDescriptor.currentDirectory.open(Array("/dev/null".utf8), O_RDONLY) {
            _ = dup2(null.rawValue, 0)
            null.close()
        }
        _ = dup2(output.rawValue, 1)
        _ = dup2(output.rawValue, 2)
        Platform.closeDescriptors(keeping: launch.extraction.rawValue)
        do throws(Failure) {
            try launch.exec(userArguments: arguments, vmArguments: vmArguments, environment: environment)
        } catch {
            error.report()
            _exit(ExitCode.osError.rawValue)
        }
    }
}
