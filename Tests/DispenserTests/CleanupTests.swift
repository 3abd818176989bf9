import Foundation
import Testing

@Suite struct CleanupTests {
    /// v1 is running (holds its lock) while v2 and v3 start: v1 survives until it exits,
    /// foreign dirs and other apps' extractions are never touched, stale temp dirs go.
    @Test func removesOnlyUnusedExtractionsOfTheSameApp() throws {
        let scratch = try Harness.Scratch()
        let tree = try Harness.makeTree(in: scratch)
        func version(_ name: String, app: String = "demo") throws -> URL {
            let metadata = Harness.defaultMetadata.filter { $0.0 != "version" && $0.0 != "app" } + [("app", app), ("version", name)]
            return try Harness.makeBinary(scratch.path("\(app)-\(name)"), tree: tree, metadata: metadata)
        }
        let v1 = try version("1"), v2 = try version("2"), v3 = try version("3"), other = try version("1", app: "demo-other")
        let environment = Harness.baseEnvironment(scratch)
        let otherRoot = try #require(try Harness.run(other.path, environment: environment).value("ROOT"))

        let cache = scratch.cache.path
        let foreign = ["demo-0.9-0123456789abcdef", "demo-notours", ".batamanta-unrelated"]
        for name in foreign { try FileManager.default.createDirectory(atPath: cache + "/" + name, withIntermediateDirectories: true) }
        try FileManager.default.createDirectory(atPath: cache + "/.batamanta-tmp-deadbeefdeadbeef/half", withIntermediateDirectories: true)
        // Two unlocked `.batamanta-new-` dirs. A starter's, in the microseconds before it
        // locks it, looks just like one a killed starter left: only age tells them apart.
        let justCreated = cache + "/.batamanta-new-0123456789abcdef", abandoned = cache + "/.batamanta-new-fedcba9876543210"
        for path in [justCreated, abandoned] { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false) }
        try Harness.shell("touch -d '-61 seconds' '\(abandoned)'")

        let running = try Harness.start(v1.path, environment: environment.merging(["HOLD": "120"]) { $1 }, output: scratch.path("v1.out"))
        var v1Root: String?
        for _ in 0..<100 where v1Root == nil {
            v1Root = (try? String(contentsOfFile: scratch.url.path + "/v1.out", encoding: .utf8))?
                .split(separator: "\n").first { $0.hasPrefix("ROOT=") }.map { String($0.dropFirst(5)) }
            usleep(50_000)
        }
        let runningRoot = try #require(v1Root)

        let second = try Harness.run(v2.path, environment: environment)
        #expect(second.status == 0)
        let v2Root = try #require(second.value("ROOT"))
        #expect(FileManager.default.fileExists(atPath: runningRoot + "/bin/run"), "in-use extraction kept")
        #expect(!FileManager.default.fileExists(atPath: cache + "/.batamanta-tmp-deadbeefdeadbeef"), "dead extractor's temp dir removed")
        #expect(FileManager.default.fileExists(atPath: justCreated), "a new dir under a minute old kept")
        #expect(!FileManager.default.fileExists(atPath: abandoned), "a new dir over a minute old removed")
        for name in foreign { #expect(FileManager.default.fileExists(atPath: cache + "/" + name), "\(name) kept") }
        #expect(FileManager.default.fileExists(atPath: otherRoot + "/bin/run"), "another app's extraction kept")

        running.terminate()
        running.waitUntilExit()
        let third = try Harness.run(v3.path, environment: environment)
        #expect(third.status == 0)
        #expect(!FileManager.default.fileExists(atPath: runningRoot), "v1 removed once unused")
        #expect(!FileManager.default.fileExists(atPath: v2Root), "v2 removed")
        for name in foreign { #expect(FileManager.default.fileExists(atPath: cache + "/" + name), "\(name) kept") }
        #expect(FileManager.default.fileExists(atPath: otherRoot + "/bin/run"))
        #expect(!Harness.cacheEntries(scratch).contains { $0.hasPrefix(".batamanta-trash-") || $0.hasPrefix(".batamanta-tmp-") })
    }
}
