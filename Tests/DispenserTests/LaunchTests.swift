import Foundation
import Testing

@Suite struct LaunchTests {
    @Test func argumentsPassVerbatimAndStatusPassesThrough() throws {
        let scratch = try Harness.Scratch()
        let binary = try Harness.makeBinary(scratch.path("app"), tree: Harness.makeTree(in: scratch))
        let arguments = ["a b", "", "héllo ✓", "--help", "-extra", "+S", "1", "-s", "foo", "-noshell", "${ROOT}", "*"]
        let cold = try Harness.run(binary.path, arguments, environment: Harness.baseEnvironment(scratch))
        #expect(cold.status == 0, "\(cold.stderr)")
        #expect(cold.arguments == ["first"] + arguments)
        var environment = Harness.baseEnvironment(scratch)
        environment["EXIT"] = "7"
        let warm = try Harness.run(binary.path, arguments, environment: environment)
        #expect(warm.status == 7)
        #expect(warm.arguments == ["first"] + arguments)
        #expect(warm.stderr.isEmpty)
    }

    @Test func environmentForTheApplication() throws {
        let scratch = try Harness.Scratch()
        let binary = try Harness.makeBinary(scratch.path("app"), tree: Harness.makeTree(in: scratch))
        let first = try Harness.run(binary.path, environment: Harness.baseEnvironment(scratch))
        let root = try #require(first.value("ROOT"))
        #expect(root.hasPrefix(scratch.cache.path + "/demo-0.1.0-"))
        #expect(root.count == scratch.cache.path.count + "/demo-0.1.0-".count + 16)
        #expect(first.value("BIN") == binary.path)
        #expect(first.value("LANG") == "C.UTF-8")
        #expect(first.value("FOO") == root + "/foo", "${ROOT} expands in env")
        #expect(first.value("DEF") == "default")

        var environment = Harness.baseEnvironment(scratch)
        environment["LANG"] = "en_US.UTF-8"
        environment["DEF"] = "mine"
        environment["FOO"] = "overridden"
        let second = try Harness.run(binary.path, environment: environment)
        #expect(second.value("LANG") == "en_US.UTF-8")
        #expect(second.value("DEF") == "mine", "env_default does not override")
        #expect(second.value("FOO") == root + "/foo", "env always wins")

        environment["LANG"] = "C"
        environment["LC_ALL"] = "de_DE.utf8"
        #expect(try Harness.run(binary.path, environment: environment).value("LANG") == "C", "a UTF-8 LC_ALL is enough")
        environment["LC_ALL"] = "POSIX"
        #expect(try Harness.run(binary.path, environment: environment).value("LANG") == "C.UTF-8")

        let relative = try Harness.run("/bin/sh", ["-c", "cd '\(scratch.url.path)' && exec ./app"], environment: Harness.baseEnvironment(scratch))
        #expect(relative.value("BIN") == binary.path, "BATAMANTA_BIN is absolute")
    }

    @Test func envScriptIsSourcedBeforeExec() throws {
        let scratch = try Harness.Scratch()
        let tree = try Harness.makeTree(in: scratch)
        try Data("SOURCED=\"yes $1\"\nexport SOURCED\n".utf8).write(to: tree.appendingPathComponent("data/env.sh"))
        let binary = try Harness.makeBinary(
            scratch.path("app"), tree: tree, metadata: Harness.defaultMetadata + [("env_script", "data/env.sh")])
        let outcome = try Harness.run(binary.path, ["x y", "-z"], environment: Harness.baseEnvironment(scratch))
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.value("SOURCED")?.hasPrefix("yes") == true)
        #expect(outcome.arguments == ["first", "x y", "-z"])
    }

    @Test func runtimeConfigIsCopiedPerRun() throws {
        let scratch = try Harness.Scratch()
        let tree = try Harness.makeTree(in: scratch)
        try Data("[{kernel, []}].\n".utf8).write(to: tree.appendingPathComponent("data/sys.config"))
        let binary = try Harness.makeBinary(
            scratch.path("app"), tree: tree,
            metadata: Harness.defaultMetadata + [("runtime_config", "data/sys"), ("arg", "-config"), ("arg", "${CONFIG}")])
        var environment = Harness.baseEnvironment(scratch)
        environment["RELEASE_TMP"] = scratch.path("rtmp").path
        try FileManager.default.createDirectory(at: scratch.path("rtmp"), withIntermediateDirectories: true)
        let first = try Harness.run(binary.path, environment: environment)
        let second = try Harness.run(binary.path, environment: environment)
        #expect(first.status == 0, "\(first.stderr)")
        let config = try #require(first.arguments.last)
        #expect(config.hasPrefix(scratch.path("rtmp").path + "/demo-"))
        #expect(!config.hasSuffix(".config"))
        #expect(try String(contentsOfFile: config + ".config", encoding: .utf8) == "[{kernel, []}].\n")
        #expect(second.arguments.last != config, "each run gets its own copy")

        environment["RELEASE_TMP"] = nil
        let inCache = try Harness.run(binary.path, environment: environment)
        #expect(inCache.arguments.last?.hasPrefix(scratch.cache.path + "/tmp/demo-") == true)
    }

    @Test func terminalArgumentsOnlyOnATerminal() throws {
        let scratch = try Harness.Scratch()
        let binary = try Harness.makeBinary(
            scratch.path("app"), tree: Harness.makeTree(in: scratch), metadata: Harness.defaultMetadata + [("tty_arg", "--color")])
        let piped = try Harness.run(binary.path, ["u"], environment: Harness.baseEnvironment(scratch))
        #expect(piped.arguments == ["first", "u"])
        let env = Harness.baseEnvironment(scratch).map { "\($0.key)='\($0.value)'" }.joined(separator: " ")
        let tty = try Harness.shell("script -qec \"env -i \(env) '\(binary.path)' u\" /dev/null")
        #expect(tty.stdout.contains("[first]\r\n[--color]\r\n[u]") || tty.stdout.contains("[--color]"), "\(tty.stdout)")
        let noColor = try Harness.shell("script -qec \"env -i NO_COLOR=1 \(env) '\(binary.path)' u\" /dev/null")
        #expect(!noColor.stdout.contains("--color"))
    }

    /// exec, not fork: the signal reaches the app's own handler, which picks the status.
    @Test func sigtermReachesTheApplication() throws {
        let scratch = try Harness.Scratch()
        let binary = try Harness.makeBinary(scratch.path("app"), tree: Harness.makeTree(in: scratch))
        let outcome = try Harness.shell(
            "TRAP=1 '\(binary.path)' > '\(scratch.path("out").path)' & pid=$!; "
                + "for i in $(seq 100); do grep -q ready '\(scratch.path("out").path)' 2>/dev/null && break; sleep 0.05; done; "
                + "kill -TERM $pid; wait $pid; echo status=$?; cat '\(scratch.path("out").path)'",
            environment: Harness.baseEnvironment(scratch))
        #expect(outcome.stdout.contains("status=42"), "\(outcome.stdout) \(outcome.stderr)")
        #expect(outcome.stdout.contains("trapped"))
    }

    @Test func preflightRefusesAnIncompatibleLibc() throws {
        let scratch = try Harness.Scratch()
        let tree = try Harness.makeTree(in: scratch)
        for (libc, expected) in [("gnu 99.1", "this binary needs glibc >= 99.1, this system has glibc 2."), ("musl", "this binary needs musl, this system has glibc 2.")] {
            let metadata = Harness.defaultMetadata.filter { $0.0 != "libc" } + [("libc", libc)]
            let binary = try Harness.makeBinary(scratch.path("app"), tree: tree, metadata: metadata)
            let outcome = try Harness.run(binary.path, environment: Harness.baseEnvironment(scratch))
            #expect(outcome.status == 69)
            #expect(outcome.stderr.hasPrefix("batamanta: ") && outcome.stderr.contains(expected), "\(outcome.stderr)")
            #expect(outcome.stderr.split(separator: "\n").count == 1)
            #expect(Harness.cacheEntries(scratch).isEmpty)
        }
        let none = Harness.defaultMetadata.filter { $0.0 != "libc" } + [("libc", "none")]
        let binary = try Harness.makeBinary(scratch.path("app"), tree: tree, metadata: none)
        #expect(try Harness.run(binary.path, environment: Harness.baseEnvironment(scratch)).status == 0)
    }

    @Test func preflightRefusesAMissingLibrary() throws {
        let scratch = try Harness.Scratch()
        let tree = try Harness.makeTree(in: scratch)
        let missing = Harness.defaultMetadata + [("needs", "libc.so.6"), ("needs", "libbatamanta-missing.so.9")]
        let binary = try Harness.makeBinary(scratch.path("app"), tree: tree, metadata: missing)
        let outcome = try Harness.run(binary.path, environment: Harness.baseEnvironment(scratch))
        #expect(outcome.status == 69)
        #expect(outcome.stderr == "batamanta: \(binary.path): this binary needs libbatamanta-missing.so.9, which this system does not have\n")
        #expect(Harness.cacheEntries(scratch).isEmpty)

        let present = Harness.defaultMetadata + [("needs", "libc.so.6")]
        try Harness.makeBinary(scratch.path("app"), tree: tree, metadata: present)
        let ran = try Harness.run(binary.path, environment: Harness.baseEnvironment(scratch))
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(ran.arguments == ["first"])
    }

    /// Each library is found one way only: LD_LIBRARY_PATH, glibc's loader cache (by
    /// name), musl's path file. /etc is a private tmpfs holding just those two files.
    @Test func preflightLooksWhereTheLoaderLooks() throws {
        let scratch = try Harness.Scratch()
        let tree = try Harness.makeTree(in: scratch)
        for (directory, library) in [("private", "libbatamanta-private.so.1"), ("musl", "libbatamanta-musl.so.3")] {
            try FileManager.default.createDirectory(at: scratch.path(directory), withIntermediateDirectories: true)
            try Data().write(to: scratch.path(directory).appendingPathComponent(library))
        }
        let needs = ["libbatamanta-private.so.1", "libbatamanta-cached.so.2", "libbatamanta-musl.so.3"]
        let binary = try Harness.makeBinary(scratch.path("app"), tree: tree, metadata: Harness.defaultMetadata + needs.map { ("needs", $0) })
        let etc = "mount -t tmpfs tmpfs /etc && printf 'ld.so-1.7.0\\\\0libbatamanta-cached.so.2\\\\0/opt/libbatamanta-cached.so.2\\\\0' > /etc/ld.so.cache"
            + " && echo '/nonexistent:\(scratch.path("musl").path)' > /etc/ld-musl-$(uname -m).path"
        var environment = Harness.baseEnvironment(scratch)
        let command = "unshare -m sh -c \"\(etc) && exec '\(binary.path)'\""
        let withoutPath = try Harness.shell(command, environment: environment)
        #expect(withoutPath.status == 69)
        #expect(withoutPath.stderr.contains("needs libbatamanta-private.so.1,"), "\(withoutPath.stderr)")

        environment["LD_LIBRARY_PATH"] = "/nonexistent::" + scratch.path("private").path
        let found = try Harness.shell(command, environment: environment)
        #expect(found.status == 0, "\(found.stderr)")
        #expect(found.arguments == ["first"])
    }
}
