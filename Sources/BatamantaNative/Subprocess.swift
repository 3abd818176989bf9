import BatamantaFormat
import CGlibc
import Glibc

/// Runs a short-lived program and collects its combined stdout and stderr.
enum Subprocess {
    struct Outcome {
        /// The exit status, or nil when it was killed by a signal or the timeout.
        var status: Int32?
        var output: [UInt8]
    }

    static func run(
        _ program: FilePath, _ arguments: [String], timeoutMilliseconds: Int32 = 5000, outputLimit: Int = 1 << 16,
        clock: MonotonicClock = .system
    ) -> Outcome? {
        var pipeEnds: [Int32] = [-1, -1]
        guard bm_pipe_cloexec(&pipeEnds) == 0 else { return nil }
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
        defer { close(readEnd) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)

        // Untranslated messages are what the parsers expect.
        let argv: [UnsafeMutablePointer<CChar>?] = ([program.description] + arguments).map { (text: String) in strdup(text) }
        let envp: [UnsafeMutablePointer<CChar>?] = ["LC_ALL=C", "PATH=/usr/bin:/bin"].map { (text: String) in strdup(text) }
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = program.withCString { path in
            posix_spawn(&pid, path, &actions, nil, argv + [nil], envp + [nil])
        }
        close(writeEnd)
        guard spawned == 0 else { return nil }

        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let deadline = clock.now() + UInt64(timeoutMilliseconds) * 1_000_000
        var timedOut = false
        while true {
            guard clock.now() < deadline else { timedOut = true; break }
            var poller = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let ready = retryingOnInterrupt { () -> Int32 in
                let now = clock.now()
                return poll(&poller, 1, now >= deadline ? 0 : Int32((deadline - now) / 1_000_000) + 1)
            }
            guard case .success(let events) = ready, events > 0 else { timedOut = ready == .success(0); break }
            let result = chunk.withUnsafeMutableBytes { buffer in retryingOnInterrupt { read(readEnd, buffer.baseAddress, buffer.count) } }
            guard case .success(let count) = result, count > 0 else { break }
            if output.count < outputLimit { output.append(contentsOf: chunk[..<count]) }
        }
        if timedOut { kill(pid, SIGKILL) }
        var status: Int32 = 0
        _ = retryingOnInterrupt { waitpid(pid, &status, 0) }
        guard !timedOut, case .exited(let code) = WaitStatus(status) else { return Outcome(status: nil, output: output) }
        return Outcome(status: code, output: output)
    }
}
