import BatamantaFormat
import Foundation

/// Builds real batamanta executables around the dispenser and runs them: no Erlang, the
/// payload's `exec` is a shell script that prints what it was given.
enum Harness {
    /// The dispenser under test: `$BATAMANTA_DISPENSER`, else the one SwiftPM built next
    /// to this test bundle.
    static let dispenser: URL = {
        if let path = ProcessInfo.processInfo.environment["BATAMANTA_DISPENSER"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        let bundle = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        return bundle.deletingLastPathComponent().appendingPathComponent("batamanta-dispenser")
    }()

    /// The dispenser of another mode (`tui`, `daemon`), built next to the cli one.
    static func dispenser(mode: String) -> URL {
        dispenser.deletingLastPathComponent().appendingPathComponent("batamanta-dispenser-\(mode)")
    }

    static let printer = """
        #!/bin/sh
        for a in "$@"; do printf '[%s]\\n' "$a"; done
        printf 'BIN=%s\\nROOT=%s\\nLANG=%s\\nFOO=%s\\nDEF=%s\\nSOURCED=%s\\n' "$BATAMANTA_BIN" "$BATAMANTA_ROOT" "$LANG" "$FOO" "$DEF" "$SOURCED"
        if [ -n "$TRAP" ]; then trap 'echo trapped; exit 42' TERM; echo ready; while :; do sleep 0.05; done; fi
        if [ -n "$HOLD" ]; then exec sleep "$HOLD"; fi
        exit ${EXIT:-0}

        """

    static let defaultMetadata: [(String, String)] = [
        ("app", "demo"), ("version", "0.1.0"), ("format", "release"), ("mode", "cli"),
        ("libc", "gnu 2.17"), ("exec", "bin/run"), ("arg", "first"), ("env", "FOO=${ROOT}/foo"), ("env_default", "DEF=default"),
    ]

    /// A scratch directory removed by `cleanUp`.
    final class Scratch {
        let url: URL
        init() throws {
            url = URL(fileURLWithPath: "/tmp").appendingPathComponent("batamanta-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        }
        var cache: URL { url.appendingPathComponent("cache") }
        func path(_ name: String) -> URL { url.appendingPathComponent(name) }
        deinit {
            _ = try? Harness.shell("chmod -R u+rwx '\(url.path)' 2>/dev/null; rm -rf '\(url.path)'")
        }
    }

    /// A tree with the printer script at bin/run plus `extraFiles` (path → size of random bytes).
    static func makeTree(in scratch: Scratch, name: String = "tree", randomFiles: [String: Int] = [:]) throws -> URL {
        let tree = scratch.path(name)
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("data"), withIntermediateDirectories: true)
        let script = tree.appendingPathComponent("bin/run")
        try Data(printer.utf8).write(to: script)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        try FileManager.default.createSymbolicLink(atPath: tree.appendingPathComponent("bin/link").path, withDestinationPath: "run")
        try Data("sourced".utf8).write(to: tree.appendingPathComponent("data/readme"))
        for (name, size) in randomFiles {
            try shell("head -c \(size) /dev/urandom > '\(tree.appendingPathComponent(name).path)'")
        }
        return tree
    }

    /// dispenser + zstd(tar of `tree`) + metadata + trailer, as docs/FORMAT.md lays out.
    /// `editPayload` may change the compressed bytes and the uncompressed size before the
    /// trailer and its hash are made from them.
    @discardableResult
    static func makeBinary(
        _ output: URL, tree: URL, metadata: [(String, String)] = defaultMetadata, tarBytes: [UInt8]? = nil,
        dispenser: URL = Harness.dispenser, editPayload: (inout Data, inout UInt64) -> Void = { _, _ in }
    ) throws -> URL {
        let work = output.deletingLastPathComponent()
        let tarFile = work.appendingPathComponent(output.lastPathComponent + ".tar")
        let payloadFile = work.appendingPathComponent(output.lastPathComponent + ".tar.zst")
        if let tarBytes {
            try Data(tarBytes).write(to: tarFile)
        } else {
            let names = try FileManager.default.contentsOfDirectory(atPath: tree.path).sorted().map { "'\($0)'" }.joined(separator: " ")
            try shell("tar --sort=name --format=posix --pax-option=delete=atime,delete=ctime --owner=0 --group=0 --numeric-owner --mtime=@0 -C '\(tree.path)' -cf '\(tarFile.path)' \(names)")
        }
        try shell("zstd -q -f -1 --check '\(tarFile.path)' -o '\(payloadFile.path)'")
        let dispenserBytes = try Data(contentsOf: dispenser)
        var payload = try Data(contentsOf: payloadFile)
        var tarSize = try FileManager.default.attributesOfItem(atPath: tarFile.path)[.size] as! UInt64
        editPayload(&payload, &tarSize)
        let metadataBytes = Metadata(entries: metadata.map { (Array($0.0.utf8), Array($0.1.utf8)) }).encoded()
        var hasher = SHA256()
        payload.withUnsafeBytes { hasher.update($0) }
        hasher.update(metadataBytes)
        let trailer = Trailer(
            payloadOffset: UInt64(dispenserBytes.count), payloadLength: UInt64(payload.count),
            metadataOffset: UInt64(dispenserBytes.count + payload.count), metadataLength: UInt64(metadataBytes.count),
            contentHash: hasher.finalize(), uncompressedSize: tarSize)
        var file = dispenserBytes
        file.append(payload)
        file.append(contentsOf: metadataBytes)
        file.append(contentsOf: trailer.encoded())
        try writeExecutable(file, to: output)
        try? FileManager.default.removeItem(at: tarFile)
        try? FileManager.default.removeItem(at: payloadFile)
        return output
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Writes `bytes` as a mode-0755 file that can be run at once. Other tests' threads
    /// spawn children all the time; a child forked while this process has a file open for
    /// writing holds it open until its own exec, and meanwhile the kernel refuses to run
    /// the file (ETXTBSY). So the bytes go to a scratch copy here, and `install`, a process
    /// of its own, writes the file that is run.
    static func writeExecutable(_ bytes: Data, to output: URL) throws {
        let copy = output.deletingLastPathComponent().appendingPathComponent(".\(output.lastPathComponent).bytes")
        try bytes.write(to: copy)
        let outcome = try shell("install -m 0755 '\(copy.path)' '\(output.path)' && rm '\(copy.path)'")
        guard outcome.status == 0 else { throw Failure(description: "install \(output.path): \(outcome.stderr)") }
    }

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        func value(_ name: String) -> String? {
            lines.first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
        }
        var arguments: [String] {
            lines.filter { $0.hasPrefix("[") && $0.hasSuffix("]") }.map { String($0.dropFirst().dropLast()) }
        }
    }

    static func baseEnvironment(_ scratch: Scratch) -> [String: String] {
        ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "BATAMANTA_CACHE_DIR": scratch.cache.path, "HOME": scratch.path("home").path]
    }

    /// Test-runner threads block most signals and children inherit that mask, which would
    /// hang `wait` in sh and swallow SIGTERM; perl (always on Debian) clears it before exec.
    static let unblockSignals = "use POSIX; sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die; exec {$ARGV[0]} @ARGV or die \"$ARGV[0]: $!\""

    static func run(_ executable: String, _ arguments: [String] = [], environment: [String: String]) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/perl")
        process.arguments = ["-e", unblockSignals, executable] + arguments
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Starts `executable` in the background with its output going to `output`.
    static func start(_ executable: String, _ arguments: [String] = [], environment: [String: String], output: URL) throws -> Process {
        // A file that could not be created makes FileHandle(forWritingTo:) below throw.
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/perl")
        process.arguments = ["-e", unblockSignals, executable] + arguments
        process.environment = environment
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try handle.close()
        return process
    }

    @discardableResult
    static func shell(_ command: String, environment: [String: String]? = nil) throws -> Outcome {
        try run("/bin/sh", ["-c", command], environment: environment ?? ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin"])
    }

    /// Names in the cache dir (hidden ones included), sorted.
    static func cacheEntries(_ scratch: Scratch) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: scratch.cache.path)) ?? []).sorted()
    }
}
