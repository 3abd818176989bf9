import BatamantaFormat
import Glibc
import Testing
@testable import BatamantaNative

@Suite struct PackTests {
    static let longName = String(repeating: "deep/", count: 30) + String(repeating: "n", count: 120)

    /// Builds the same tree with files and directories created in the given order.
    static func makeTree(at root: FilePath, reversed: Bool) throws {
        var steps: [() throws -> Void] = [
            { try writeFile(root.appending("bin/start"), "#!/bin/sh\necho hi\n", mode: 0o755) },
            { try writeFile(root.appending("lib/app-0.1.0/ebin/app.app"), "{application, app, []}.\n") },
            { try writeFile(root.appending("lib/a-b/file"), "dash sorts before slash\n") },
            { try writeFile(root.appending("releases/0.1.0/sys.config"), "[].\n", mode: 0o644) },
            { try writeFile(root.appending(PackTests.longName), String(repeating: "x", count: 70_000)) },
            { shell("mkdir -p '\(root)/empty' && chmod 0755 '\(root)/empty'") },
            { shell("mkdir -p '\(root)/lib' && ln -s app-0.1.0 '\(root)/lib/app'") },
            { shell("mkdir -p '\(root)/bin' && ln -s ../lib/app-0.1.0/ebin/app.app '\(root)/bin/app.app'") },
            { try writeFile(root.appending("héllo ✓.txt"), "") },
        ]
        if reversed { steps.reverse() }
        for step in steps { try step() }
        shell("chmod 0755 '\(root)' '\(root)/bin' '\(root)/lib'")
    }

    @Test func packsAreByteIdenticalWhateverTheCreationOrder() throws {
        let work = TemporaryDirectory()
        try Self.makeTree(at: work("one"), reversed: false)
        try Self.makeTree(at: work("two"), reversed: true)
        shell("touch -d 2001-01-01 '\(work)/two/bin/start'")
        let settings = ZstdCompressor.Settings(level: 3)
        let first = try Pack.pack(work("one"), to: work("one.zst"), settings: settings, mtime: 1_700_000_000, progress: .ignored)
        let second = try Pack.pack(work("two"), to: work("two.zst"), settings: settings, mtime: 1_700_000_000, progress: .ignored)
        #expect(first == second)
        #expect(try readFile(work("one.zst")) == readFile(work("two.zst")))
        let different = try Pack.pack(work("one"), to: work("three.zst"), settings: settings, mtime: 0, progress: .ignored)
        #expect(try readFile(work("three.zst")) != readFile(work("one.zst")))
        #expect(different.uncompressed == first.uncompressed)
    }

    /// Two frames whose tar, once decoded, holds the same entries as one frame's, with
    /// the first frame's roots and their parents first; from the cache, the same bytes.
    @Test func framesAndTheirCache() throws {
        let work = TemporaryDirectory()
        try Self.makeTree(at: work("tree"), reversed: false)
        let settings = ZstdCompressor.Settings(level: 3)
        let roots = [Array("lib/app-0.1.0".utf8), Array("bin".utf8)]
        let single = try Pack.pack(work("tree"), to: work("one.zst"), settings: settings, mtime: 0, progress: .ignored)
        let cache = work("cache")
        shell("mkdir -p '\(cache)'")
        let pack = { (name: String) throws -> Pack.Outcome in
            try Pack.pack(work("tree"), to: work(name), settings: settings, mtime: 0, firstFrame: roots, cache: cache, progress: .ignored)
        }
        let fresh = try pack("two.zst")
        #expect(fresh.frames == 2 && fresh.reused == 0 && fresh.uncompressed == single.uncompressed)
        #expect(shell("ls '\(cache)' | wc -l").output.split(separator: "\n").first == "2")
        let listing = shell("zstd -dcq '\(work)/two.zst' | tar -tf -").output.split(separator: "\n").map(String.init)
        #expect(Array(listing.prefix(6)) == ["bin/", "bin/app.app", "bin/start", "lib/", "lib/app-0.1.0/", "lib/app-0.1.0/ebin/"])
        #expect(Set(listing) == Set(shell("zstd -dcq '\(work)/one.zst' | tar -tf -").output.split(separator: "\n").map(String.init)))

        let cached = try pack("three.zst")
        #expect(cached.reused == 2 && cached.size == fresh.size)
        #expect(try readFile(work("three.zst")) == readFile(work("two.zst")))

        // A damaged cache entry is compressed again, and replaced.
        shell("for f in '\(cache)'/*.zst; do printf 'garbage' | dd of=\"$f\" bs=1 seek=40 conv=notrunc status=none; done")
        let repaired = try pack("four.zst")
        #expect(repaired.reused == 0)
        #expect(try readFile(work("four.zst")) == readFile(work("two.zst")))
        #expect(try pack("five.zst").reused == 2)

        // A cache that cannot be written costs only the time.
        #expect(try Pack.pack(
            work("tree"), to: work("nocache.zst"), settings: settings, mtime: 0, firstFrame: roots,
            cache: work("missing"), progress: .ignored).reused == 0)
        #expect(try readFile(work("nocache.zst")) == readFile(work("two.zst")))

        // A changed file changes only its own frame.
        try writeFile(work("tree").appending("releases/0.1.0/sys.config"), "[{app, []}].\n")
        #expect(try pack("six.zst").reused == 1)
    }

    @Test func modesDependOnlyOnTheExecuteBit() throws {
        let work = TemporaryDirectory()
        try Self.makeTree(at: work("strict"), reversed: false)
        try Self.makeTree(at: work("loose"), reversed: false)
        shell("chmod -R g+w,o+w '\(work)/loose' && chmod 0700 '\(work)/loose/bin/start' '\(work)/loose/empty'")
        shell("chmod 0600 '\(work)/loose/releases/0.1.0/sys.config'")
        let settings = ZstdCompressor.Settings(level: 3)
        _ = try Pack.pack(work("strict"), to: work("strict.zst"), settings: settings, mtime: 0, progress: .ignored)
        _ = try Pack.pack(work("loose"), to: work("loose.zst"), settings: settings, mtime: 0, progress: .ignored)
        #expect(try readFile(work("strict.zst")) == readFile(work("loose.zst")))
        let listing = shell("zstd -dcq '\(work)/loose.zst' | tar -tvf - --numeric-owner").output
        #expect(listing.contains("-rwxr-xr-x 0/0") && listing.contains("-rw-r--r-- 0/0"), "\(listing)")
        #expect(listing.contains("drwxr-xr-x 0/0") && !listing.contains("rw-rw"), "\(listing)")
    }

    @Test func systemTarExtractsTheSameTree() throws {
        let work = TemporaryDirectory()
        try Self.makeTree(at: work("tree"), reversed: false)
        var reports: [(UInt64, UInt64)] = []
        let result = try Pack.pack(
            work("tree"), to: work("tree.tar.zst"), settings: .init(level: 9), mtime: 86_400,
            progress: .collecting { stage, done, total in
                #expect(stage == "pack")
                reports.append((done, total))
            })
        #expect("\(result.entries)" == shell("find '\(work)/tree' -mindepth 1 | wc -l").output.split(separator: "\n").first.map(String.init))
        #expect(reports.last.map { $0.0 == $0.1 && $0.1 == result.uncompressed } == true)
        let listing = shell("zstd -dcq '\(work)/tree.tar.zst' | tar -tvf - --numeric-owner")
        #expect(listing.status == 0, "\(listing.output)")
        let lines = listing.output.split(separator: "\n")
        #expect(lines.allSatisfy { $0.contains(" 0/0 ") && $0.contains("1970-01-02") }, "\(listing.output)")
        let paths = shell("zstd -dcq '\(work)/tree.tar.zst' | tar -tf -").output.split(separator: "\n").map(String.init)
        #expect(paths == paths.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        #expect(paths.first == "bin/")
        #expect(paths.contains("lib/a-b/") && paths.firstIndex(of: "lib/a-b/")! < paths.firstIndex(of: "lib/app")!)

        let extract = shell("""
            mkdir '\(work)/out' && zstd -dcq '\(work)/tree.tar.zst' | tar -xf - -C '\(work)/out' && \
            diff -r --no-dereference '\(work)/tree' '\(work)/out' && \
            cd '\(work)/tree' && find . -printf '%p %m %y %l\\n' | sort > ../a && \
            cd '\(work)/out' && find . -printf '%p %m %y %l\\n' | sort > ../b && cmp ../a ../b
            """)
        #expect(extract.status == 0, "\(extract.output)")
    }

    @Test func zstdFrameCarriesChecksumAndSize() throws {
        let work = TemporaryDirectory()
        try writeFile(work("tree/file"), "payload")
        let result = try Pack.pack(work("tree"), to: work("p.zst"), settings: .init(level: 19), mtime: 0, progress: .ignored)
        let header = shell("zstd -lv '\(work)/p.zst'").output
        #expect(header.contains("Check: XXH64"), "\(header)")
        #expect(header.contains("\(result.uncompressed)"), "\(header)")
    }

    /// The dispenser's decoder must never need more than a 2^23-byte window (its peak RSS):
    /// the highest level on more than 8 MiB (zeros, which libzstd packs as RLE blocks fast).
    @Test func highestLevelStaysWithinTheDecoderWindow() throws {
        let work = TemporaryDirectory()
        shell("mkdir -p '\(work)/tree' && head -c 9000000 /dev/zero > '\(work)/tree/zeros'")
        _ = try Pack.pack(work("tree"), to: work("a.zst"), settings: .init(level: 19), mtime: 0, progress: .ignored)
        let header = shell("zstd -lv '\(work)/a.zst'").output
        #expect(header.contains("Window Size: 8.00 MiB"), "\(header)")
        let decoded = shell("zstd -dcq --memory=8MB '\(work)/a.zst' | tar -xOf - zeros | cmp - '\(work)/tree/zeros'")
        #expect(decoded.status == 0, "\(decoded.output)")
    }

    @Test func refusesWhatTheFormatCannotCarry() throws {
        let work = TemporaryDirectory()
        try writeFile(work("fifo/ok"), "")
        shell("mkfifo '\(work)/fifo/pipe'")
        #expect {
            try Pack.pack(work("fifo"), to: work("out.zst"), settings: .init(level: 3), mtime: 0, progress: .ignored)
        } throws: { ($0 as? CommandError)?.code == .unsupported && ($0 as? CommandError)?.message.contains("fifo/pipe") == true }

        try writeFile(work("absolute/ok"), "")
        shell("ln -s /etc/passwd '\(work)/absolute/link'")
        #expect {
            try Pack.pack(work("absolute"), to: work("out.zst"), settings: .init(level: 3), mtime: 0, progress: .ignored)
        } throws: { ($0 as? CommandError)?.message.contains("absolute/link") == true }

        shell("mkdir -p '\(work)/escape/sub' && ln -s ../../outside '\(work)/escape/sub/link'")
        #expect {
            try Pack.pack(work("escape"), to: work("out.zst"), settings: .init(level: 3), mtime: 0, progress: .ignored)
        } throws: { ($0 as? CommandError)?.message.contains("outside the tree") == true }
        #expect(!FileSystem.exists(work("out.zst")))
        #expect(shell("ls -A '\(work)' | grep -c tmp").output.hasPrefix("0"))
    }

    /// Each link stays inside on its own; only resolving `a/b` while following `c` shows
    /// that `c` climbs out, and the dispenser resolves it that way.
    @Test func refusesSymlinkChainsThatEscape() throws {
        let work = TemporaryDirectory()
        shell("mkdir -p '\(work)/chain/a' && ln -s .. '\(work)/chain/a/b'")
        _ = try Pack.pack(work("chain"), to: work("ok.zst"), settings: .init(level: 3), mtime: 0, progress: .ignored)
        shell("ln -s a/b/.. '\(work)/chain/c'")
        #expect {
            try Pack.pack(work("chain"), to: work("out.zst"), settings: .init(level: 3), mtime: 0, progress: .ignored)
        } throws: {
            let message = ($0 as? CommandError)?.message ?? ""
            return message.contains("chain/c ") && message.contains("outside the tree")
        }
        #expect(!FileSystem.exists(work("out.zst")))
    }

    @Test func missingSourceIsEnoent() {
        let work = TemporaryDirectory()
        let arguments = Arguments(.record([
            "source": .string("\(work)/nope"), "output": .string("\(work)/o"), "level": .integer(3), "mtime": .integer(0),
        ]), command: "pack")
        #expect(throws: CommandError.self) { try Pack.run(arguments, .ignored) }
        let badLevel = Arguments(.record([
            "source": .string("\(work)"), "output": .string("\(work)/o"), "level": .integer(23), "mtime": .integer(0),
        ]), command: "pack")
        #expect { try Pack.run(badLevel, .ignored) } throws: { ($0 as? CommandError)?.code == .invalidArgument }
    }
}
