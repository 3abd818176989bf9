import Foundation
import Testing

/// The tui and daemon dispensers' own exit codes (README's table), on the same
/// printer payload as the cli one, and the codes of an `exec` the kernel refuses.
@Suite struct ModeDispenserTests {
    static func metadata(mode: String, exec: String = "bin/run") -> [(String, String)] {
        Harness.defaultMetadata.map { entry in
            switch entry.0 {
            case "mode": return ("mode", mode)
            case "exec": return ("exec", exec)
            default: return entry
            }
        }
    }

    static func dispenser(mode: String) -> URL {
        mode == "cli" ? Harness.dispenser : Harness.dispenser(mode: mode)
    }

    /// The printer payload behind the `mode` dispenser, and an environment for it.
    static func binary(_ scratch: Harness.Scratch, mode: String, exec: String = "bin/run") throws -> (URL, [String: String]) {
        let binary = try Harness.makeBinary(
            scratch.path("app"), tree: Harness.makeTree(in: scratch), metadata: metadata(mode: mode, exec: exec),
            dispenser: dispenser(mode: mode))
        var environment = Harness.baseEnvironment(scratch)
        environment["XDG_STATE_HOME"] = scratch.path("state").path
        return (binary, environment)
    }

    static func expectOneLine(_ outcome: Harness.Outcome, status: Int32, _ message: String) {
        #expect(outcome.status == status, "\(outcome.stderr)")
        #expect(outcome.stderr.hasPrefix("batamanta: ") && outcome.stderr.contains(message), "\(outcome.stderr)")
    }

    @Test(arguments: ["tui", "daemon"])
    func payloadAndCacheFailures(mode: String) throws {
        let scratch = try Harness.Scratch()
        let dispenser = Self.dispenser(mode: mode)
        let (binary, environment) = try Self.binary(scratch, mode: mode)
        // The daemon extracts on start; status reads only the metadata.
        let extracting = mode == "daemon" ? ["start", "--timeout", "1"] : []

        Self.expectOneLine(try Harness.run(dispenser.path, extracting, environment: environment), status: 66, "no batamanta payload")

        var flipped = try Data(contentsOf: binary)
        flipped[(try Data(contentsOf: dispenser)).count + 100] ^= 0x01
        let corrupt = scratch.path("corrupt")
        try Harness.writeExecutable(flipped, to: corrupt)
        Self.expectOneLine(try Harness.run(corrupt.path, extracting, environment: environment), status: 65, "corrupt")

        try FileManager.default.createDirectory(at: scratch.cache, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try Harness.shell("chown 4321:4321 '\(scratch.cache.path)'")
        Self.expectOneLine(try Harness.run(binary.path, extracting, environment: environment), status: 73, "owned by another user")
    }

    @Test func tuiWithoutATerminalPassesTheStatusThrough() throws {
        let scratch = try Harness.Scratch()
        let (binary, base) = try Self.binary(scratch, mode: "tui")
        var environment = base
        environment["EXIT"] = "5"
        let outcome = try Harness.run(binary.path, ["x y"], environment: environment)
        #expect(outcome.status == 5, "\(outcome.stderr)")
        #expect(outcome.arguments == ["first", "x y"])
        #expect(outcome.stderr.contains("warning: stdin is not a terminal"))
    }

    @Test func daemonCommandsWithNothingRunning() throws {
        let scratch = try Harness.Scratch()
        let (binary, base) = try Self.binary(scratch, mode: "daemon")
        var environment = base
        let run = { (arguments: [String]) throws -> Harness.Outcome in try Harness.run(binary.path, arguments, environment: environment) }

        #expect(try run(["status"]).status == 3)
        #expect(try run(["pid"]).status == 1)
        #expect(try run(["stop"]).status == 1)
        let logs = try run(["logs"])
        #expect(logs.status == 1, "\(logs.stderr)")
        #expect(try run(["rpc", "1"]).status == 1)
        #expect(try run(["start", "no-dashes"]).status == 64)
        #expect(try run(["frobnicate"]).status == 64)
        #expect(try run(["start", "--timeout", "soon"]).status == 64)

        // The printer never reports ready: start waits its timeout, kills it, shows the log.
        environment["HOLD"] = "30"
        let started = Date()
        let start = try run(["start", "--timeout", "1", "--", "an arg"])
        #expect(start.status == 1, "\(start.stderr)")
        #expect(Date().timeIntervalSince(started) < 10)
        let shown = start.stdout + start.stderr
        #expect(shown.contains("did not finish booting within 1 s"), "\(shown)")
        #expect(shown.contains("[an arg]"), "the log's end: \(shown)")
        #expect(try run(["status"]).status == 3)
        let log = try run(["logs"])
        #expect(log.status == 0 && log.stdout.contains("[an arg]"), "\(log.stdout)")
    }

    /// README: 71 for an exec the kernel refuses, 77 when the refusal is a permission.
    @Test(arguments: ["cli", "tui"])
    func anExecTheKernelRefusesExits71Or77(mode: String) throws {
        for (exec, status) in [("bin/missing", Int32(71)), ("data/readme", Int32(77))] {
            let scratch = try Harness.Scratch()
            let (binary, environment) = try Self.binary(scratch, mode: mode, exec: exec)
            let outcome = try Harness.run(binary.path, environment: environment)
            #expect(outcome.status == status, "\(exec): \(outcome.stderr)")
            #expect(outcome.stderr.contains("cannot execute") && outcome.stderr.contains(exec), "\(outcome.stderr)")
        }
    }
}
