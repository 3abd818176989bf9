import Foundation
import Testing

/// The first start makes its tree durable by syncing only what it wrote, in an order a
/// crash cannot break: every file's contents and every directory's entries reach the disk
/// before the rename that publishes the tree, and the rename itself right after.
@Suite struct DurabilityTests {
    /// strace (from scripts/install-deps) traces the dispenser's system calls: `-y` names
    /// each descriptor's file, so the log says which file each write and sync was for.
    static let tracedCalls = "openat,mkdirat,symlinkat,write,fdatasync,fsync,renameat,renameat2,sync,syncfs"

    /// A tree with nested directories and files from empty to larger than a write buffer.
    static func makeBinary(_ scratch: Harness.Scratch) throws -> (binary: URL, tree: URL) {
        let tree = try Harness.makeTree(in: scratch, randomFiles: ["data/blob": 3 << 20, "data/small": 100])
        for depth in ["lib/a/ebin", "lib/b/priv"] {
            try FileManager.default.createDirectory(at: tree.appendingPathComponent(depth), withIntermediateDirectories: true)
            try Data("module \(depth)".utf8).write(to: tree.appendingPathComponent(depth + "/m.beam"))
        }
        try Data().write(to: tree.appendingPathComponent("lib/a/empty"))
        return (try Harness.makeBinary(scratch.path("app"), tree: tree), tree)
    }

    /// Relative paths of the regular files and directories under `root`.
    static func entries(of root: URL) throws -> (files: [String], directories: [String]) {
        var files: [String] = []
        var directories: [String] = []
        let walker = try #require(FileManager.default.enumerator(atPath: root.path))
        while let path = walker.nextObject() as? String {
            switch walker.fileAttributes?[.type] as? FileAttributeType {
            case .typeRegular?: files.append(path)
            case .typeDirectory?: directories.append(path)
            default: break
            }
        }
        return (files.sorted(), directories.sorted())
    }

    @Test func killedJustBeforeTheRenameLeavesNoTreeButCompleteFiles() throws {
        let scratch = try Harness.Scratch()
        let (binary, tree) = try Self.makeBinary(scratch)
        // The first rename takes the new dir's name to its locked temporary one; the second
        // would publish the tree. SIGKILL on entry to the second: everything is written and
        // synced, nothing renamed.
        let killed = try Harness.shell(
            "strace -f -o /dev/null -e trace=renameat,renameat2 -e inject=renameat,renameat2:signal=KILL:when=2 '\(binary.path)'",
            environment: Harness.baseEnvironment(scratch))
        #expect(killed.status != 0, "the extractor was not killed: \(killed.stdout)")
        #expect(!killed.stdout.contains("ROOT="), "the app ran")
        let entries = Harness.cacheEntries(scratch)
        #expect(!entries.contains { $0.hasPrefix("demo-") }, "a tree was published: \(entries)")
        let temporary = try #require(entries.first { $0.hasPrefix(".batamanta-tmp-") }, "\(entries)")

        // What the kill left is the whole tree, byte for byte, plus the marker.
        let left = scratch.cache.appendingPathComponent(temporary)
        let expected = try Self.entries(of: tree)
        let found = try Self.entries(of: left)
        #expect(found.files == (expected.files + [".batamanta-extraction"]).sorted())
        #expect(found.directories == expected.directories)
        for file in expected.files {
            #expect(try Data(contentsOf: left.appendingPathComponent(file)) == Data(contentsOf: tree.appendingPathComponent(file)), "\(file)")
        }

        let next = try Harness.run(binary.path, ["after"], environment: Harness.baseEnvironment(scratch))
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.arguments == ["first", "after"])
        let after = Harness.cacheEntries(scratch)
        #expect(after.count == 1 && after[0].hasPrefix("demo-0.1.0-"), "leftovers: \(after)")
    }

    @Test func everyFileAndDirectoryIsSyncedBeforeTheRenameAndOnlyThose() throws {
        let scratch = try Harness.Scratch()
        let (binary, tree) = try Self.makeBinary(scratch)
        let log = scratch.path("trace")
        let outcome = try Harness.shell(
            "strace -f -y -o '\(log.path)' -e trace=\(Self.tracedCalls) '\(binary.path)' > /dev/null",
            environment: Harness.baseEnvironment(scratch))
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map(String.init)
        let published = try #require(Harness.cacheEntries(scratch).first { $0.hasPrefix("demo-") })
        let rename = try #require(lines.firstIndex { $0.contains("rename") && $0.contains("\"\(published)\"") && $0.hasSuffix("= 0") })
        let temporary = try #require(lines[..<rename].last { $0.contains("rename") && $0.hasSuffix("= 0") && !$0.contains("\"\(published)\"") }
            .flatMap { line in line.split(separator: "\"").map(String.init).first { $0.hasPrefix(".batamanta-tmp-") } })
        let root = scratch.cache.path + "/" + temporary

        #expect(!lines.contains { $0.contains(" sync(") || $0.hasPrefix("sync(") || $0.contains("syncfs(") }, "the whole file system was flushed")
        /// The index of the last line before the rename where `call` was made on `path`.
        func last(_ call: String, on path: String) -> Int? {
            lines[..<rename].lastIndex { $0.contains(call + "(") && $0.contains("<\(path)>") }
        }
        for file in try Self.entries(of: tree).files + [".batamanta-extraction"] {
            let path = root + "/" + file
            let synced = try #require(last("fdatasync", on: path), "\(file) never fdatasync'ed before the rename")
            if let written = last("write", on: path) {
                #expect(written < synced, "\(file) written after its sync")
            }
        }
        for directory in try Self.entries(of: tree).directories + [""] {
            let path = directory.isEmpty ? root : root + "/" + directory
            let synced = try #require(last("fsync", on: path), "directory \(directory) never fsync'ed before the rename")
            let created = lines[..<rename].lastIndex { line in
                line.contains("<\(path)>, \"") && (line.contains("mkdirat(") || line.contains("symlinkat(") || (line.contains("openat(") && line.contains("O_CREAT")))
            }
            if let created { #expect(created < synced, "directory \(directory) got an entry after its sync") }
        }
        let parentSync = lines[(rename + 1)...].firstIndex { $0.contains("fsync(") && $0.contains("<\(scratch.cache.path)>") }
        #expect(parentSync != nil, "the cache directory was not fsync'ed after the rename")
    }
}
