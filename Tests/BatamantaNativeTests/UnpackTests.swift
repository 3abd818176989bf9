import BatamantaFormat
import Glibc
import Testing
@testable import BatamantaNative

/// `:unpack` on archives made by GNU tar and Python's tarfile, as mirrors really hold them.
@Suite struct UnpackTests {
    static let longName = String(repeating: "deep/", count: 25) + String(repeating: "n", count: 110)

    /// An installed-OTP-shaped tree: an in-tree relative link, links out of the tree (one
    /// climbing, one absolute, one escaping only through another link), a read-only
    /// directory and a name only GNU's long-name entries can hold.
    static func makeTree(at root: FilePath) throws {
        try writeFile(root.appending("erts-1.0/bin/epmd"), "#!/bin/sh\necho epmd\n", mode: 0o755)
        try writeFile(root.appending("lib/ct-1.0/priv/index.html"), "<html/>\n")
        try writeFile(root.appending(UnpackTests.longName), "long\n")
        try writeFile(root.appending("readonly/file"), "ro\n", mode: 0o444)
        shell("""
            cd '\(root)' && mkdir -p bin && ln -s ../erts-1.0/bin/epmd bin/epmd && \
            ln -s ../../../../../share/javascript/jquery.js lib/ct-1.0/priv/jquery.js && \
            ln -s /usr/share/javascript lib/ct-1.0/priv/js && \
            ln -s .. lib/up && ln -s ../up/../../etc lib/ct-1.0/sneaky && chmod 0555 readonly
            """)
    }

    @Test func keepsInTreeLinksAndDropsEscapingOnes() throws {
        let work = TemporaryDirectory()
        try Self.makeTree(at: work("erlang"))
        let made = shell("cd '\(work)' && tar -czf otp.tar.gz erlang")
        #expect(made.status == 0, "\(made.output)")
        shell("mkdir '\(work)/out'")

        let result = try Unpack.unpack(work("otp.tar.gz"), into: work("out"), progress: .ignored)

        let dropped = result.dropped.map { "\(String(decoding: $0.path, as: UTF8.self)) -> \(String(decoding: $0.target, as: UTF8.self))" }.sorted()
        #expect(dropped == [
            "erlang/lib/ct-1.0/priv/jquery.js -> ../../../../../share/javascript/jquery.js",
            "erlang/lib/ct-1.0/priv/js -> /usr/share/javascript",
            "erlang/lib/ct-1.0/sneaky -> ../up/../../etc",
        ])
        #expect(try FileSystem.destination(ofLink: work("out/erlang/bin/epmd")) == Array("../erts-1.0/bin/epmd".utf8))
        #expect(try FileSystem.destination(ofLink: work("out/erlang/lib/up")) == Array("..".utf8))
        #expect(try FileSystem.readContents(work("out/erlang/bin/epmd")) == Array("#!/bin/sh\necho epmd\n".utf8))
        #expect(try FileSystem.status(work("out/erlang/erts-1.0/bin/epmd"), followingLinks: false).mode == 0o755)
        #expect(try FileSystem.status(work("out/erlang/readonly"), followingLinks: false).mode == 0o555)
        #expect(try readFile(work("out/erlang/" + Self.longName)) == Array("long\n".utf8))
        #expect(!FileSystem.exists(work("out/erlang/lib/ct-1.0/priv/js")))
        #expect(!FileSystem.exists(work("out/erlang/lib/ct-1.0/sneaky")))
        shell("chmod -R u+w '\(work)'")
    }

    @Test func unpacksArchivesOfDotAndPaxArchives() throws {
        let work = TemporaryDirectory()
        try Self.makeTree(at: work("erlang"))
        shell("cd '\(work)' && tar -C erlang --format=pax -czf dot.tar.gz . && mkdir out")

        let result = try Unpack.unpack(work("dot.tar.gz"), into: work("out"), progress: .ignored)

        #expect(result.dropped.count == 3)
        #expect(try FileSystem.destination(ofLink: work("out/bin/epmd")) == Array("../erts-1.0/bin/epmd".utf8))
        #expect(try readFile(work("out/" + Self.longName)) == Array("long\n".utf8))
        shell("chmod -R u+w '\(work)'")
    }

    @Test func makesDirectoriesTheArchiveHasNoEntriesFor() throws {
        let work = TemporaryDirectory()
        try Self.makeTree(at: work("erlang"))
        shell("""
            cd '\(work)' && tar --no-recursion -czf listed.tar.gz erlang/erts-1.0/bin/epmd erlang/bin/epmd \
            erlang/readonly/file erlang/readonly erlang && mkdir out
            """)

        let result = try Unpack.unpack(work("listed.tar.gz"), into: work("out"), progress: .ignored)

        #expect(result.entries == 5)
        #expect(try FileSystem.readContents(work("out/erlang/bin/epmd")) == Array("#!/bin/sh\necho epmd\n".utf8))
        #expect(try FileSystem.status(work("out/erlang/readonly"), followingLinks: false).mode == 0o555)
        #expect(try FileSystem.status(work("out/erlang/erts-1.0"), followingLinks: false).mode == 0o755)
        shell("chmod -R u+w '\(work)'")
    }

    @Test func refusesEntriesOutsideTheTreeNamingThem() throws {
        let work = TemporaryDirectory()
        let made = shell("""
            cd '\(work)' && mkdir out && python3 -c '
            import io, tarfile
            with tarfile.open("evil.tar.gz", "w:gz") as tar:
                for name in ["erlang/", "erlang/../escaped"]:
                    info = tarfile.TarInfo(name)
                    info.type = tarfile.DIRTYPE if name.endswith("/") else tarfile.REGTYPE
                    tar.addfile(info, io.BytesIO(b""))
            '
            """)
        #expect(made.status == 0, "\(made.output)")

        #expect(throws: CommandError(.corrupt, "cannot unpack \(work("evil.tar.gz")): unsafe payload: '..' in entry path (erlang/../escaped)")) {
            try Unpack.unpack(work("evil.tar.gz"), into: work("out"), progress: .ignored)
        }
        #expect(!FileSystem.exists(work("escaped")))
    }

    @Test func refusesDamagedGzipAndTruncatedArchives() throws {
        let work = TemporaryDirectory()
        shell("""
            cd '\(work)' && mkdir erlang && head -c 300000 /dev/urandom > erlang/file && tar -czf whole.tar.gz erlang && head -c 2000 whole.tar.gz > cut.tar.gz && \
            echo 'not gzip' > plain.tar.gz && mkdir a b c
            """)

        #expect(throws: CommandError(.corrupt, "\(work("cut.tar.gz")) is truncated: its gzip data ends early")) {
            try Unpack.unpack(work("cut.tar.gz"), into: work("a"), progress: .ignored)
        }
        #expect(throws: CommandError(.corrupt, "\(work("plain.tar.gz")) is not valid gzip data: incorrect header check")) {
            try Unpack.unpack(work("plain.tar.gz"), into: work("b"), progress: .ignored)
        }
        #expect(throws: CommandError(.enoent, "cannot open \(work("missing.tar.gz")): No such file or directory")) {
            try Unpack.unpack(work("missing.tar.gz"), into: work("c"), progress: .ignored)
        }
    }
}
