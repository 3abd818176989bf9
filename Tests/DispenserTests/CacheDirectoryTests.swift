import Foundation
import Testing

/// These need root (chown, mount namespaces), as in CI.
@Suite struct CacheDirectoryTests {
    static func binary(_ scratch: Harness.Scratch, randomFiles: [String: Int] = [:]) throws -> URL {
        try Harness.makeBinary(scratch.path("app"), tree: Harness.makeTree(in: scratch, randomFiles: randomFiles))
    }

    static func expectOneLine(_ outcome: Harness.Outcome, status: Int32, path: String, _ message: String) {
        #expect(outcome.status == status, "\(outcome.stderr)")
        #expect(outcome.stderr.hasPrefix("batamanta: \(path)") && outcome.stderr.contains(message), "\(outcome.stderr)")
        #expect(outcome.stderr.split(separator: "\n").count == 1, "\(outcome.stderr)")
    }

    @Test func createsMissingDirectoriesPrivately() throws {
        let scratch = try Harness.Scratch()
        let binary = try Self.binary(scratch)
        var environment = Harness.baseEnvironment(scratch)
        environment["BATAMANTA_CACHE_DIR"] = nil
        environment["XDG_CACHE_HOME"] = scratch.path("xdg/deeper").path
        let outcome = try Harness.run(binary.path, environment: environment)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.value("ROOT")?.hasPrefix(scratch.path("xdg/deeper/batamanta/demo-").path) == true)
        let mode = try FileManager.default.attributesOfItem(atPath: scratch.path("xdg/deeper/batamanta").path)[.posixPermissions] as? Int
        #expect(mode == 0o700)

        environment["XDG_CACHE_HOME"] = nil
        let home = try Harness.run(binary.path, environment: environment)
        #expect(home.value("ROOT")?.hasPrefix(scratch.path("home/.cache/batamanta/demo-").path) == true, "\(home.stdout)")

        // The XDG spec says a relative path is invalid and to be ignored.
        environment["XDG_CACHE_HOME"] = "relative/cache"
        let relative = try Harness.run(binary.path, environment: environment)
        #expect(relative.value("ROOT")?.hasPrefix(scratch.path("home/.cache/batamanta/demo-").path) == true, "\(relative.stdout)")
    }

    @Test func refusesACacheDirOwnedByAnotherUser() throws {
        let scratch = try Harness.Scratch()
        let binary = try Self.binary(scratch)
        try FileManager.default.createDirectory(at: scratch.cache, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try Harness.shell("chown 4321:4321 '\(scratch.cache.path)'")
        let outcome = try Harness.run(binary.path, environment: Harness.baseEnvironment(scratch))
        Self.expectOneLine(outcome, status: 73, path: scratch.cache.path, "owned by another user")
    }

    @Test func refusesAGroupOrWorldWritableCacheDir() throws {
        let scratch = try Harness.Scratch()
        let binary = try Self.binary(scratch)
        try FileManager.default.createDirectory(at: scratch.cache, withIntermediateDirectories: true)
        for mode in [0o770, 0o707, 0o1777] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: scratch.cache.path)
            let outcome = try Harness.run(binary.path, environment: Harness.baseEnvironment(scratch))
            Self.expectOneLine(outcome, status: 73, path: scratch.cache.path, "group- or world-writable")
        }
    }

    /// Root ignores mode bits, so a read-only bind mount in a private mount namespace.
    @Test func readOnlyCacheDir() throws {
        let scratch = try Harness.Scratch()
        let binary = try Self.binary(scratch)
        try FileManager.default.createDirectory(at: scratch.cache, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let cache = scratch.cache.path
        let readOnly = "mount --bind '\(cache)' '\(cache)' && mount -o remount,ro,bind '\(cache)' && "
        let outcome = try Harness.shell("unshare -m sh -c \"\(readOnly) exec '\(binary.path)'\"", environment: Harness.baseEnvironment(scratch))
        Self.expectOneLine(outcome, status: 77, path: cache, "Read-only file system")

        // An extraction made earlier still starts from a read-only cache.
        #expect(try Harness.run(binary.path, environment: Harness.baseEnvironment(scratch)).status == 0)
        let warm = try Harness.shell("unshare -m sh -c \"\(readOnly) exec '\(binary.path)' warm\"", environment: Harness.baseEnvironment(scratch))
        #expect(warm.status == 0, "\(warm.stderr)")
        #expect(warm.arguments == ["first", "warm"])
    }

    @Test func permissionDeniedForAnUnprivilegedUser() throws {
        let scratch = try Harness.Scratch()
        let binary = try Self.binary(scratch)
        try FileManager.default.createDirectory(at: scratch.cache, withIntermediateDirectories: true)
        try Harness.shell("chmod 755 '\(scratch.url.path)' && chown 4321 '\(scratch.cache.path)' && chmod 0500 '\(scratch.cache.path)'")
        let outcome = try Harness.shell("setpriv --reuid 4321 --regid 4321 --clear-groups '\(binary.path)'", environment: Harness.baseEnvironment(scratch))
        Self.expectOneLine(outcome, status: 77, path: scratch.cache.path, "Permission denied")
    }

    @Test func fallsBackToTmpWithoutAUsableHome() throws {
        let scratch = try Harness.Scratch()
        let binary = try Self.binary(scratch)
        let tmp = scratch.path("tmp")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        let environment = ["PATH": "/usr/bin:/bin", "TMPDIR": tmp.path]
        let outcome = try Harness.run(binary.path, environment: environment)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.value("ROOT")?.hasPrefix(tmp.path + "/batamanta-0/demo-") == true, "\(outcome.stdout)")
        let mode = try FileManager.default.attributesOfItem(atPath: tmp.path + "/batamanta-0")[.posixPermissions] as? Int
        #expect(mode == 0o700)

        let home = scratch.path("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let readOnlyHome = try Harness.shell(
            "unshare -m sh -c \"mount --bind '\(home.path)' '\(home.path)' && mount -o remount,ro,bind '\(home.path)' && exec '\(binary.path)'\"",
            environment: environment.merging(["HOME": home.path]) { $1 })
        #expect(readOnlyHome.status == 0, "\(readOnlyHome.stderr)")
        #expect(readOnlyHome.value("ROOT")?.hasPrefix(tmp.path + "/batamanta-0/demo-") == true)

        // Someone else's dir at the fallback name is refused, not used.
        let planted = scratch.path("tmp2/batamanta-0")
        try FileManager.default.createDirectory(at: planted, withIntermediateDirectories: true)
        try Harness.shell("chown 4321 '\(planted.path)'")
        let refused = try Harness.run(binary.path, environment: ["PATH": "/usr/bin:/bin", "TMPDIR": scratch.path("tmp2").path])
        Self.expectOneLine(refused, status: 73, path: planted.path, "owned by another user")
    }

    /// F3: as an unprivileged user, another user's 0700 cache dir cannot even be opened;
    /// that is still "owned by another user" (73), not a bare EACCES (77).
    @Test func anotherUsersPrivateCacheDirIsRefusedAsTheirs() throws {
        let scratch = try Harness.Scratch()
        let binary = try Self.binary(scratch)
        try FileManager.default.createDirectory(at: scratch.cache, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try Harness.shell("chown 4321:4321 '\(scratch.cache.path)'")
        let outcome = try Harness.shell("setpriv --reuid 4322 --regid 4322 --clear-groups '\(binary.path)'", environment: Harness.baseEnvironment(scratch))
        Self.expectOneLine(outcome, status: 73, path: scratch.cache.path, "owned by another user")

        // The $TMPDIR fallback, squatted by another user before we ever ran.
        let tmp = scratch.path("tmp")
        try FileManager.default.createDirectory(at: tmp.appendingPathComponent("batamanta-4322"), withIntermediateDirectories: true)
        try Harness.shell("chmod 1777 '\(tmp.path)' && chown 4321 '\(tmp.path)/batamanta-4322' && chmod 0700 '\(tmp.path)/batamanta-4322'")
        let environment = ["PATH": "/usr/bin:/bin", "TMPDIR": tmp.path]
        let squatted = try Harness.shell("setpriv --reuid 4322 --regid 4322 --clear-groups '\(binary.path)'", environment: environment)
        Self.expectOneLine(squatted, status: 73, path: tmp.path + "/batamanta-4322", "owned by another user")

        // Unsquatted, the same sticky, world-writable $TMPDIR is a safe parent.
        try Harness.shell("rm -rf '\(tmp.path)/batamanta-4322'")
        let fallback = try Harness.shell("setpriv --reuid 4322 --regid 4322 --clear-groups '\(binary.path)'", environment: environment)
        #expect(fallback.status == 0, "\(fallback.stderr)")
        #expect(fallback.value("ROOT")?.hasPrefix(tmp.path + "/batamanta-4322/demo-") == true, "\(fallback.stdout)")
    }

    /// F1 as it was attacked: the cache sits in a directory another user can write to;
    /// while a start sleeps between its checks and the exec (strace delays the exec), that
    /// user renames the cache away and plants a tree at the extraction's name. The planted
    /// program must never run as us. A non-sticky such parent is refused up front; in a
    /// sticky one (like /tmp) only we can rename our dir, so the attack fails.
    @Test(arguments: [0o777, 0o1777])
    func anotherUserCannotSwapTheCacheBeforeTheExec(parentMode: Int) throws {
        let scratch = try Harness.Scratch()
        let binary = try Self.binary(scratch)
        let name = try #require(try Harness.run(binary.path, environment: Harness.baseEnvironment(scratch)).value("ROOT")).split(separator: "/").last!
        let shared = scratch.path("shared")
        let cache = shared.appendingPathComponent("cache")
        let pwned = shared.appendingPathComponent("pwned")
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.posixPermissions: parentMode], ofItemAtPath: shared.path)
        var environment = Harness.baseEnvironment(scratch)
        environment["BATAMANTA_CACHE_DIR"] = cache.path

        let warm = try Harness.run(binary.path, environment: environment)
        let output = scratch.path("attacked.out")
        let victim = try Harness.start(
            "/usr/bin/strace", ["-o", "/dev/null", "-e", "trace=execve", "-e", "inject=execve:delay_enter=2000000", binary.path],
            environment: environment, output: output)
        Thread.sleep(forTimeInterval: 0.5)
        let plant = """
            cd '\(shared.path)' && mv cache moved && mkdir -p 'cache/\(name)/bin' && \
            printf '#!/bin/sh\\nid -u > \(pwned.path)\\n' > 'cache/\(name)/bin/run' && chmod 755 'cache/\(name)/bin/run'
            """
        let attack = try Harness.shell("setpriv --reuid 65534 --regid 65534 --clear-groups sh -c \"\(plant)\"")
        victim.waitUntilExit()
        let attacked = try String(contentsOf: output, encoding: .utf8)

        #expect(!FileManager.default.fileExists(atPath: pwned.path), "the planted program ran as us: \(attacked)")
        if parentMode == 0o777 {
            Self.expectOneLine(warm, status: 73, path: cache.path, "another user can write to")
            #expect(warm.stderr.contains("'\(shared.path)'"), "names the parent: \(warm.stderr)")
            #expect(victim.terminationStatus == 73, "\(attacked)")
        } else {
            #expect(warm.status == 0, "\(warm.stderr)")
            #expect(attack.status != 0, "a sticky parent lets only the owner rename: \(attack.stderr)")
            #expect(victim.terminationStatus == 0 && attacked.contains("[first]"), "\(attacked)")
        }
    }

    @Test func diskFull() throws {
        let scratch = try Harness.Scratch()
        let binary = try Self.binary(scratch, randomFiles: ["data/blob": 4 << 20])
        try FileManager.default.createDirectory(at: scratch.cache, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let cache = scratch.cache.path
        let outcome = try Harness.shell(
            "unshare -m sh -c \"mount -t tmpfs -o size=1m,mode=0700 tmpfs '\(cache)' && '\(binary.path)'; echo status=\\$?; ls -A '\(cache)'\"",
            environment: Harness.baseEnvironment(scratch))
        #expect(outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "status=74", "left: \(outcome.stdout)")
        #expect(outcome.stderr.hasPrefix("batamanta: \(cache)/.batamanta-tmp-") && outcome.stderr.contains("No space left on device"), "\(outcome.stderr)")
    }
}
