import Foundation
import Testing

/// The daemon's pid file is judged stale only under the state lock: `status` and `pid`
/// run without it, while `start` may be between writing the pid file and its VM's exec.
@Suite struct DaemonPidFileTests {
    /// A "VM" the pid file can recognize (a binary under the extraction root), which
    /// reports ready once it runs.
    static let daemonRun = """
        #!/bin/sh
        ( sleep 0.3; printf '%s' "$$" > "$BATAMANTA_READY_FILE" ) &
        exec "$BATAMANTA_ROOT/bin/vm" 60

        """

    static func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }

    @Test func statusDuringStartsExecWindowKeepsThePidFile() throws {
        let scratch = try Harness.Scratch()
        let tree = try Harness.makeTree(in: scratch)
        try Data(Self.daemonRun.utf8).write(to: tree.appendingPathComponent("bin/run"))
        try Harness.shell("cp /bin/sleep '\(tree.path)/bin/vm'")
        let binary = try Harness.makeBinary(
            scratch.path("app"), tree: tree, metadata: ModeDispenserTests.metadata(mode: "daemon"), dispenser: Harness.dispenser(mode: "daemon"))
        var environment = Harness.baseEnvironment(scratch)
        environment["XDG_STATE_HOME"] = scratch.path("state").path
        let pidFile = scratch.path("state/batamanta/demo/demo.pid")
        let run = { (arguments: [String]) throws -> Harness.Outcome in try Harness.run(binary.path, arguments, environment: environment) }

        // Every exec waits 1.5 s, the VM's first among them: its pid file is written while
        // the pid still runs the dispenser, which looks exactly like a stale one.
        let output = scratch.path("start.out")
        let starter = try Harness.start(
            "/usr/bin/strace", ["-f", "-o", "/dev/null", "-e", "trace=execve", "-e", "inject=execve:delay_enter=1500000", binary.path, "start", "--timeout", "30"],
            environment: environment, output: output)
        defer { if starter.isRunning { starter.terminate() } }
        #expect(Self.waitFor(20) { FileManager.default.fileExists(atPath: pidFile.path) })
        let early = try run(["status"])
        #expect(early.status == 3, "not running yet: \(early.stdout)")
        #expect(FileManager.default.fileExists(atPath: pidFile.path), "status deleted the pid file of a starting daemon")
        #expect(try run(["pid"]).status == 1)
        #expect(FileManager.default.fileExists(atPath: pidFile.path), "pid deleted the pid file of a starting daemon")

        #expect(Self.waitFor(30) { ((try? String(contentsOf: output, encoding: .utf8)) ?? "").contains("started demo") }, "\((try? String(contentsOf: output, encoding: .utf8)) ?? "")")
        let pid = try run(["pid"])
        #expect(pid.status == 0, "\(pid.stderr)")
        let written = try String(contentsOf: pidFile, encoding: .utf8).split(separator: "\n").first.map(String.init)
        #expect(pid.stdout == (written ?? "?") + "\n")

        // A VM killed outright leaves a stale pid file: status reports it and keeps it,
        // stop (under the lock) removes it.
        try Harness.shell("kill -KILL \(written ?? "0")")
        #expect(Self.waitFor(10) { (try? run(["status"]).status) == 3 })
        #expect(FileManager.default.fileExists(atPath: pidFile.path))
        let stop = try run(["stop"])
        #expect(stop.status == 1 && stop.stderr.contains("is not running"), "\(stop.stderr)")
        #expect(!FileManager.default.fileExists(atPath: pidFile.path))
        starter.waitUntilExit()
    }

    /// A VM whose main thread exits on SIGTERM while another of its threads, holding the
    /// descriptors they share (the extraction's lock among them), lives on for 1.5 s.
    static let lingeringVM = #"""
        #include <pthread.h>
        #include <signal.h>
        #include <unistd.h>

        static int pipe_ends[2];

        static void *linger(void *unused) {
            char byte;
            (void)unused;
            while (read(pipe_ends[0], &byte, 1) != 1) {}
            usleep(1500000);
            _exit(0);
        }

        int main(void) {
            sigset_t term;
            int signal;
            pthread_t thread;
            sigemptyset(&term);
            sigaddset(&term, SIGTERM);
            pthread_sigmask(SIG_BLOCK, &term, NULL);
            if (pipe(pipe_ends) != 0 || pthread_create(&thread, NULL, linger, NULL) != 0) return 1;
            sigwait(&term, &signal);
            if (write(pipe_ends[1], "x", 1) != 1) return 1;
            pthread_exit(NULL);
        }
        """#

    /// `stop` returns once nothing of the VM is left, not when its main thread is gone:
    /// right after it, the extraction is free for `uninstall` or a new start.
    @Test func stopWaitsForEveryThreadOfTheVM() throws {
        let scratch = try Harness.Scratch()
        let tree = try Harness.makeTree(in: scratch)
        try Data(Self.daemonRun.utf8).write(to: tree.appendingPathComponent("bin/run"))
        let source = scratch.path("vm.c")
        try Data(Self.lingeringVM.utf8).write(to: source)
        let build = try Harness.shell("cc -O2 -pthread '\(source.path)' -o '\(tree.path)/bin/vm'")
        try #require(build.status == 0, "\(build.stderr)")
        let binary = try Harness.makeBinary(
            scratch.path("app"), tree: tree, metadata: ModeDispenserTests.metadata(mode: "daemon"), dispenser: Harness.dispenser(mode: "daemon"))
        var environment = Harness.baseEnvironment(scratch)
        environment["XDG_STATE_HOME"] = scratch.path("state").path
        let run = { (arguments: [String], extra: [String: String]) throws -> Harness.Outcome in
            try Harness.run(binary.path, arguments, environment: environment.merging(extra) { $1 })
        }

        let start = try run(["start", "--timeout", "30"], [:])
        try #require(start.status == 0, "\(start.stderr)")
        let pid = try run(["pid"], [:]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let began = Date()
        let stop = try run(["stop"], [:])
        let took = Date().timeIntervalSince(began)
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(took >= 1.4, "stop returned after \(took) s, while the VM's second thread still ran")
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        #expect(tasks.allSatisfy { $0 == pid }, "threads left: \(tasks)")
        let info = try run([], ["BATAMANTA_MAINTENANCE": "info"])
        #expect(info.stdout.contains("(extracted, not in use)"), "\(info.stdout)")
    }
}
