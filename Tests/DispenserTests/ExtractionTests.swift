import BatamantaFormat
import Foundation
import Testing

@Suite struct ExtractionTests {
    @Test func coldStartExtractsAndWarmStartDoesNotTouchThePayload() throws {
        let scratch = try Harness.Scratch()
        let binary = try Harness.makeBinary(scratch.path("app"), tree: Harness.makeTree(in: scratch))
        let cold = try Harness.run(binary.path, environment: Harness.baseEnvironment(scratch))
        #expect(cold.status == 0, "\(cold.stderr)")
        let root = try #require(cold.value("ROOT"))
        #expect(Harness.cacheEntries(scratch) == [URL(fileURLWithPath: root).lastPathComponent])
        let attributes = try FileManager.default.attributesOfItem(atPath: root + "/bin/run")
        #expect((attributes[.posixPermissions] as? Int) == 0o755, "modes kept")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/bin/link") == "run", "symlinks kept")
        #expect(try String(contentsOfFile: root + "/data/readme", encoding: .utf8) == "sourced")
        #expect(FileManager.default.fileExists(atPath: root + "/.batamanta-extraction"))

        // A warm start must not re-extract: a file removed from the tree stays removed.
        try FileManager.default.removeItem(atPath: root + "/data/readme")
        let warm = try Harness.run(binary.path, environment: Harness.baseEnvironment(scratch))
        #expect(warm.status == 0)
        #expect(!FileManager.default.fileExists(atPath: root + "/data/readme"))
    }

    /// More files than the syncer holds pending (128), each fdatasync slowed down (strace
    /// delays it by 20 ms): the writer must wait for room and be woken when a sync frees
    /// some, every time, or the start hangs (and `timeout` fails it).
    @Test func moreFilesThanTheSyncerHoldsAreAllExtracted() throws {
        let scratch = try Harness.Scratch()
        let tree = try Harness.makeTree(in: scratch)
        for directory in 0..<6 {
            let path = tree.appendingPathComponent("lib/d\(directory)")
            try FileManager.default.createDirectory(at: path, withIntermediateDirectories: true)
            for file in 0..<100 {
                try Data("file \(file) of \(directory)\n".utf8).write(to: path.appendingPathComponent("f\(file)"))
            }
        }
        let binary = try Harness.makeBinary(scratch.path("app"), tree: tree)
        let outcome = try Harness.shell(
            "timeout 60 strace -f -qq -o /dev/null -e trace=fdatasync -e inject=fdatasync:delay_enter=20000 '\(binary.path)'",
            environment: Harness.baseEnvironment(scratch))
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let root = try #require(outcome.value("ROOT"))
        for directory in 0..<6 {
            for file in 0..<100 {
                let contents = try String(contentsOfFile: root + "/lib/d\(directory)/f\(file)", encoding: .utf8)
                #expect(contents == "file \(file) of \(directory)\n")
            }
        }
    }

    /// Where fewer threads can be started than the extraction asks for (here: an
    /// RLIMIT_NPROC of `processes` for an unprivileged user, so `processes - 1` threads),
    /// each step that got none runs on the thread of the step it feeds: with one, only the
    /// reading has a thread; with two, the decoding too, and the files are synced on the
    /// extracting thread itself. The same tree, only slower. RLIMIT_NPROC counts every
    /// process of the user, so each case runs as a user no other test runs as, and
    /// `timeout` turns a stage that never gets stepped into a failure instead of a hang.
    @Test(arguments: [1, 2, 3]) func withFewOrNoThreadsTheSameTreeIsExtracted(processes: Int) throws {
        let user = 4340 + processes
        let scratch = try Harness.Scratch()
        let tree = try Harness.makeTree(in: scratch, randomFiles: ["data/blob": 3 << 20])
        let binary = try Harness.makeBinary(scratch.path("app"), tree: tree)
        try Harness.shell("chmod 755 '\(scratch.url.path)' && mkdir -m 700 '\(scratch.cache.path)' && chown \(user) '\(scratch.cache.path)'")
        let trace = scratch.path("clones")
        let outcome = try Harness.shell(
            "timeout 60 strace -f -qq -e trace=clone,clone3 -o '\(trace.path)' prlimit --nproc=\(processes):\(processes) " +
                "setpriv --reuid \(user) --regid \(user) --clear-groups '\(binary.path)'",
            environment: Harness.baseEnvironment(scratch))
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let root = try #require(outcome.value("ROOT"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: root + "/data/blob")) == Data(contentsOf: tree.appendingPathComponent("data/blob")))
        #expect(try String(contentsOfFile: root + "/data/readme", encoding: .utf8) == "sourced")
        let clones = try String(contentsOf: trace, encoding: .utf8).split(separator: "\n")
        let started = clones.filter { $0.range(of: #"= [1-9][0-9]*$"#, options: .regularExpression) != nil }
        #expect(clones.contains { $0.contains("EAGAIN") } && started.count == processes - 1, "\(clones)")
    }

    /// F4: whatever holds the extraction's exact name without being a finished extraction
    /// of ours is treated as absent: moved aside, replaced by a fresh extraction, and run.
    @Test func anImpostorAtTheExtractionsNameIsMovedAside() throws {
        let scratch = try Harness.Scratch()
        let binary = try Harness.makeBinary(scratch.path("app"), tree: Harness.makeTree(in: scratch))
        let environment = Harness.baseEnvironment(scratch)
        let root = try #require(try Harness.run(binary.path, environment: environment).value("ROOT"))
        let name = URL(fileURLWithPath: root).lastPathComponent
        let saved = scratch.path("saved").path
        try Harness.shell("cp -a '\(root)' '\(saved)'")
        let impostors = [
            "an empty directory": "mkdir '\(root)'",
            "a tree without our marker": "mkdir -p '\(root)/bin' && printf '#!/bin/sh\\necho impostor\\n' > '\(root)/bin/run' && chmod 755 '\(root)/bin/run'",
            "another user's extraction": "cp -a '\(saved)' '\(root)' && chown -R 4321 '\(root)'",
            "a marker naming another app": "cp -a '\(saved)' '\(root)' && chmod u+w '\(root)/.batamanta-extraction' && echo app=other > '\(root)/.batamanta-extraction'",
            "a file": "echo impostor > '\(root)'",
            "a symlink to a good tree": "ln -s '\(saved)' '\(root)'",
        ]
        for (what, plant) in impostors {
            try Harness.shell("rm -rf '\(root)' && \(plant)")
            let outcome = try Harness.run(binary.path, ["again"], environment: environment)
            #expect(outcome.status == 0, "\(what): \(outcome.stderr)")
            #expect(outcome.arguments == ["first", "again"] && !outcome.stdout.contains("impostor"), "\(what): \(outcome.stdout)")
            let marker = try? String(contentsOfFile: root + "/.batamanta-extraction", encoding: .utf8)
            #expect(marker == "app=demo\nname=\(name)\n", "\(what)")
            #expect(try FileManager.default.attributesOfItem(atPath: root)[.ownerAccountID] as? Int == 0, "\(what)")
            #expect(Harness.cacheEntries(scratch) == [name], "\(what): the impostor is gone")
        }

        // Unprivileged, another user's private dir at the name cannot even be opened.
        let userCache = scratch.path("user-cache").path
        try Harness.shell("mkdir -m 700 '\(userCache)' && chown 4322 '\(userCache)' && mkdir -m 700 '\(userCache)/\(name)' && chown 4321 '\(userCache)/\(name)'")
        let unprivileged = try Harness.shell(
            "setpriv --reuid 4322 --regid 4322 --clear-groups '\(binary.path)'", environment: environment.merging(["BATAMANTA_CACHE_DIR": userCache]) { $1 })
        #expect(unprivileged.status == 0 && unprivileged.arguments == ["first"], "\(unprivileged.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: "\(userCache)/\(name)")[.ownerAccountID] as? Int == 4322)

        // One that cannot be moved aside (a mount point) is refused, by name.
        let refused = try Harness.shell(
            "rm -rf '\(root)' && mkdir '\(root)' && unshare -m sh -c \"mount -t tmpfs tmpfs '\(root)' && exec '\(binary.path)'\"", environment: environment)
        #expect(refused.status == 71, "\(refused.stderr)")
        #expect(refused.stderr.hasPrefix("batamanta: \(root): is not an extraction of this binary and cannot be moved aside"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
    }

    @Test func sixteenConcurrentFirstStarts() throws {
        let scratch = try Harness.Scratch()
        let binary = try Harness.makeBinary(scratch.path("app"), tree: Harness.makeTree(in: scratch, randomFiles: ["data/blob": 2 << 20]))
        let outcome = try Harness.shell(
            "for i in $(seq 16); do ('\(binary.path)' \"arg $i\" > '\(scratch.url.path)'/out.$i 2>&1; echo $? > '\(scratch.url.path)'/rc.$i) & done; wait",
            environment: Harness.baseEnvironment(scratch))
        #expect(outcome.status == 0)
        for i in 1...16 {
            let status = try String(contentsOf: scratch.path("rc.\(i)"), encoding: .utf8)
            let output = try String(contentsOf: scratch.path("out.\(i)"), encoding: .utf8)
            #expect(status == "0\n", "run \(i): \(output)")
            #expect(output.contains("[arg \(i)]"))
        }
        let entries = Harness.cacheEntries(scratch)
        #expect(entries.count == 1 && entries[0].hasPrefix("demo-0.1.0-"), "\(entries)")
    }

    @Test func sigkillDuringFirstExtractionLeavesNothingBehind() throws {
        let scratch = try Harness.Scratch()
        let binary = try Harness.makeBinary(scratch.path("app"), tree: Harness.makeTree(in: scratch, randomFiles: ["data/blob": 52 << 20]))
        // Kill at random moments spread over one measured extraction.
        let clock = ContinuousClock()
        let duration = try clock.measure { _ = try Harness.run(binary.path, environment: Harness.baseEnvironment(scratch)) }
        try Harness.shell("rm -rf '\(scratch.cache.path)'")
        let microseconds = max(Int(duration.components.attoseconds / 1_000_000_000_000) + Int(duration.components.seconds) * 1_000_000, 1000)
        var completed = 0
        for _ in 0..<20 {
            let delay = Double(Int.random(in: 0..<microseconds)) / 1_000_000
            let killed = try Harness.shell(
                "'\(binary.path)' > /dev/null 2>&1 & pid=$!; sleep \(delay); kill -KILL $pid; wait $pid; echo $?",
                environment: Harness.baseEnvironment(scratch))
            #expect(killed.status == 0)
            // When the kill came after the rename, start over so every round is a first start.
            for entry in Harness.cacheEntries(scratch) where entry.hasPrefix("demo-") {
                completed += 1
                try Harness.shell("rm -rf '\(scratch.cache.path)/\(entry)'")
            }
        }
        // A kill between creating the dir and locking it leaves an empty `.batamanta-new-`
        // dir, which starts remove only once it is a minute old (CleanupTests): age it.
        for entry in Harness.cacheEntries(scratch) where entry.hasPrefix(".batamanta-new-") {
            let path = scratch.cache.path + "/" + entry
            #expect(try FileManager.default.contentsOfDirectory(atPath: path).isEmpty, "\(entry) is not empty")
            try Harness.shell("touch -d '-61 seconds' '\(path)'")
        }
        let final = try Harness.run(binary.path, ["after"], environment: Harness.baseEnvironment(scratch))
        #expect(final.status == 0, "\(final.stderr)")
        #expect(final.arguments == ["first", "after"])
        let entries = Harness.cacheEntries(scratch)
        #expect(entries.count == 1 && entries[0].hasPrefix("demo-0.1.0-"), "leftovers: \(entries) (\(completed) rounds completed before the kill)")
    }

    @Test func peakMemoryStaysSmallWhateverThePayloadSize() throws {
        let scratch = try Harness.Scratch()
        let binary = try Harness.makeBinary(scratch.path("app"), tree: Harness.makeTree(in: scratch, randomFiles: ["data/blob": 52 << 20]))
        var environment = Harness.baseEnvironment(scratch)
        environment["HOLD"] = nil
        let measured = try Harness.shell("/usr/bin/time -f 'maxrss=%M' '\(binary.path)' 2>&1 >/dev/null | tail -1", environment: environment)
        let kilobytes = try #require(Int(measured.stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "maxrss=", with: "")))
        #expect(kilobytes < 32 * 1024, "peak RSS \(kilobytes) KB")
    }

    @Test func corruptedPayloads() throws {
        let scratch = try Harness.Scratch()
        let binary = try Harness.makeBinary(scratch.path("app"), tree: Harness.makeTree(in: scratch, randomFiles: ["data/blob": 1 << 20]))
        let original = try Data(contentsOf: binary)
        let dispenserSize = try Data(contentsOf: Harness.dispenser).count
        let trailerAt = original.count - Trailer.size

        func check(_ name: String, _ bytes: Data, status: Int32, message: String) throws {
            let path = scratch.path(name)
            try Harness.writeExecutable(bytes, to: path)
            let outcome = try Harness.run(path.path, environment: Harness.baseEnvironment(scratch))
            #expect(outcome.status == status, "\(name): \(outcome.stderr)")
            #expect(outcome.stderr.hasPrefix("batamanta: \(path.path): ") && outcome.stderr.contains(message), "\(name): \(outcome.stderr)")
            #expect(outcome.stderr.split(separator: "\n").count == 1)
            #expect(outcome.stdout.isEmpty)
            #expect(Harness.cacheEntries(scratch).allSatisfy { !$0.hasPrefix("demo-") && !$0.hasPrefix(".batamanta-") }, "\(name) left \(Harness.cacheEntries(scratch))")
        }

        for offset in [dispenserSize + 100, dispenserSize + (trailerAt - dispenserSize) / 2, trailerAt - 200, trailerAt - 5] {
            var flipped = original
            flipped[offset] ^= 0x01
            try check("flip-\(offset)", flipped, status: 65, message: "corrupt")
        }
        try check("truncated-1", original.dropLast(1), status: 66, message: "no batamanta payload")
        try check("truncated-half", original.prefix(dispenserSize + (original.count - dispenserSize) / 2), status: 66, message: "no batamanta payload")
        var badVersion = original
        badVersion[trailerAt + 8] = 9
        try check("bad-version", badVersion, status: 65, message: "unsupported trailer version")
        try check("no-trailer", try Data(contentsOf: Harness.dispenser), status: 66, message: "no batamanta payload")
    }

    /// The hash is right, but the frames break a rule that only the payload's end shows:
    /// the dispenser makes PayloadDecoder's closing checks, as `:inspect` does.
    @Test func framesThatEndWrongAreRefused() throws {
        let scratch = try Harness.Scratch()
        let tree = try Harness.makeTree(in: scratch)
        let cases: [(String, (inout Data, inout UInt64) -> Void, String)] = [
            ("size", { _, size in size += 1 }, "uncompressed size differs from the trailer's"),
            ("truncated", { payload, _ in payload.removeLast(10) }, "zstd frame truncated"),
            ("partial-header", { payload, _ in payload.append(contentsOf: [0x28, 0xB5]) }, "data after a zstd frame"),
        ]
        for (name, edit, message) in cases {
            let binary = try Harness.makeBinary(scratch.path(name), tree: tree, editPayload: edit)
            let outcome = try Harness.run(binary.path, environment: Harness.baseEnvironment(scratch))
            #expect(outcome.status == 65, "\(name): \(outcome.stderr)")
            #expect(outcome.stderr.hasPrefix("batamanta: \(binary.path): ") && outcome.stderr.contains(message), "\(name): \(outcome.stderr)")
            #expect(outcome.stdout.isEmpty)
            #expect(Harness.cacheEntries(scratch).allSatisfy { !$0.hasPrefix("demo-") && !$0.hasPrefix(".batamanta-") }, "\(name) left \(Harness.cacheEntries(scratch))")
        }
    }

    @Test func unsafeTarEntriesAreRefused() throws {
        let scratch = try Harness.Scratch()
        let tree = try Harness.makeTree(in: scratch)
        func tar(_ headers: [TarEntryHeader]) -> [UInt8] {
            var bytes: [UInt8] = []
            for header in headers {
                bytes += header.encoded()
                if header.kind == .file {
                    bytes += [UInt8](repeating: UInt8(ascii: "x"), count: Int(header.size)) + [UInt8](repeating: 0, count: padding(header.size))
                }
            }
            return bytes + [UInt8](repeating: 0, count: 1024)
        }
        let outside = scratch.path("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        let cases: [(String, [TarEntryHeader])] = [
            ("dotdot", [TarEntryHeader(path: Array("../escaped".utf8), kind: .file, mode: 0o644, size: 1)]),
            ("absolute", [TarEntryHeader(path: Array("\(outside.path)/escaped".utf8), kind: .file, mode: 0o644, size: 1)]),
            ("through-link", [
                TarEntryHeader(path: Array("l".utf8), kind: .symlink, mode: 0o777, linkTarget: Array(outside.path.utf8)),
                TarEntryHeader(path: Array("l/escaped".utf8), kind: .file, mode: 0o644, size: 1),
            ]),
            ("relative-link", [
                TarEntryHeader(path: Array("l".utf8), kind: .symlink, mode: 0o777, linkTarget: Array("../../outside".utf8)),
                TarEntryHeader(path: Array("l/escaped".utf8), kind: .file, mode: 0o644, size: 1),
            ]),
        ]
        for (name, headers) in cases {
            let binary = try Harness.makeBinary(scratch.path(name), tree: tree, tarBytes: tar(headers))
            let outcome = try Harness.run(binary.path, environment: Harness.baseEnvironment(scratch))
            #expect(outcome.status == 65, "\(name): \(outcome.stderr)")
            #expect(outcome.stderr.contains("unsafe payload"), "\(name): \(outcome.stderr)")
            #expect(!FileManager.default.fileExists(atPath: outside.path + "/escaped"))
            #expect(!FileManager.default.fileExists(atPath: scratch.url.path + "/escaped"))
            #expect(Harness.cacheEntries(scratch).isEmpty, "\(name) left \(Harness.cacheEntries(scratch))")
        }
        var device = TarEntryHeader.ustarBlockForTests(name: "dev", typeflag: "3")
        device += [UInt8](repeating: 0, count: 1024)
        let binary = try Harness.makeBinary(scratch.path("device"), tree: tree, tarBytes: device)
        let outcome = try Harness.run(binary.path, environment: Harness.baseEnvironment(scratch))
        #expect(outcome.status == 65 && outcome.stderr.contains("unsupported tar entry type"), "\(outcome.stderr)")
    }
}

extension TarEntryHeader {
    /// A header of a type our writer never produces (device, fifo, hard link…).
    static func ustarBlockForTests(name: String, typeflag: Character) -> [UInt8] {
        var block = TarEntryHeader(path: Array(name.utf8), kind: .file, mode: 0o644).encoded()
        block[156] = typeflag.asciiValue!
        for i in 148..<156 { block[i] = UInt8(ascii: " ") }
        let sum = block.reduce(0) { $0 + Int($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        let field = [UInt8](repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits + [0, UInt8(ascii: " ")]
        for (i, byte) in field.enumerated() { block[148 + i] = byte }
        return block
    }
}
