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
}
