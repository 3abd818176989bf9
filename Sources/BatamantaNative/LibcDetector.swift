import Glibc

enum LibcFamily: String, Sendable {
    case gnu, musl
}

struct LibcDetection: Equatable {
    enum Source: String { case ldd, loader, osRelease = "os-release", maps, `default` }

    var family: LibcFamily
    var version: String?
    var source: Source
    var note: String?
}

/// Finds the C library of a system rooted at `root`, asking in order `ldd --version`,
/// the dynamic loader files, os-release and (for the real root only) this process's
/// memory map, and stopping at the first clear answer.
struct LibcDetector {
    let root: FilePath

    var isRealRoot: Bool { root.bytes == Array("/".utf8) }

    func detect() -> LibcDetection {
        var skipped: [String] = []
        let methods: [(String, () -> LibcDetection?)] = [
            ("ldd --version gave no clear answer", fromLdd),
            ("no unambiguous ld-musl/ld-linux loader in lib or lib64", fromLoader),
            ("os-release names no known distribution", fromOSRelease),
        ]
        for (reason, method) in methods {
            if let answer = method() { return withGlibcVersion(answer) }
            skipped.append(reason)
        }
        if isRealRoot, let answer = fromMaps() { return withGlibcVersion(answer) }
        skipped.append(isRealRoot ? "/proc/self/maps names neither libc" : "/proc/self/maps is only read for root \"/\"")
        return LibcDetection(
            family: .gnu, version: nil, source: .default,
            note: "assumed glibc under \(root): " + skipped.joined(separator: "; "))
    }

    /// On the real root a glibc answer is this very process's libc, which knows its version.
    private func withGlibcVersion(_ detection: LibcDetection) -> LibcDetection {
        guard detection.family == .gnu, detection.version == nil, isRealRoot else { return detection }
        var completed = detection
        completed.version = LibcDetector.runningGlibcVersion
        return completed
    }

    /// confstr answers "glibc 2.36" for the libc this process runs on.
    static var runningGlibcVersion: String? {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = confstr(Int32(_CS_GNU_LIBC_VERSION), &buffer, buffer.count)
        guard count > 0, count <= buffer.count else { return nil }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.split(separator: " ").last.map(String.init).flatMap(versionNumber)
    }

    func fromLdd() -> LibcDetection? {
        for candidate in ["usr/bin/ldd", "bin/ldd"] {
            let program = root.appending(candidate)
            guard program.withCString({ access($0, X_OK) }) == 0,
                  let outcome = Subprocess.run(program, ["--version"])
            else { continue }
            if let answer = LibcDetector.parseLddOutput(outcome.output) { return answer }
        }
        return nil
    }

    /// glibc prints `ldd (Debian GLIBC 2.36-9) 2.36`; musl prints `musl libc` and
    /// `Version 1.2.4` on stderr and exits 1, so the status is not consulted.
    static func parseLddOutput(_ output: [UInt8]) -> LibcDetection? {
        let text = String(decoding: output, as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        let lower = text.lowercased()
        if lower.contains("musl") {
            let version = lines.first { $0.hasPrefix("Version ") }.map { String($0.dropFirst("Version ".count)) }
            return LibcDetection(family: .musl, version: version, source: .ldd, note: nil)
        }
        if lower.contains("glibc") || lower.contains("gnu libc") || lower.contains("gnu c library") {
            let version = lines.first?.split(separator: " ").last.map(String.init).flatMap(versionNumber)
            return LibcDetection(family: .gnu, version: version, source: .ldd, note: nil)
        }
        return nil
    }

    func fromLoader() -> LibcDetection? {
        let lib = (try? FileSystem.entryNames(of: root.appending("lib"))) ?? []
        let lib64 = (try? FileSystem.entryNames(of: root.appending("lib64"))) ?? []
        let musl = lib.contains { $0.starts(with: Array("ld-musl-".utf8)) && $0.ends(with: Array(".so.1".utf8)) }
        let gnu = lib64.contains { $0.starts(with: Array("ld-linux".utf8)) && $0.ends(with: Array(".so.2".utf8)) }
            || lib.contains { $0.starts(with: Array("ld-linux".utf8)) && $0.contains(Array(".so.".utf8)) }
        switch (musl, gnu) {
        case (true, false): return LibcDetection(family: .musl, version: nil, source: .loader, note: nil)
        case (false, true): return LibcDetection(family: .gnu, version: nil, source: .loader, note: nil)
        default: return nil
        }
    }

    func fromOSRelease() -> LibcDetection? {
        for candidate in ["etc/os-release", "usr/lib/os-release"] {
            guard let contents = try? FileSystem.readContents(root.appending(candidate), limit: 1 << 16) else { continue }
            return LibcDetector.parseOSRelease(contents)
        }
        return nil
    }

    private static let muslDistributions: Set<String> = ["alpine", "postmarketos", "chimera"]
    private static let gnuDistributions: Set<String> = [
        "debian", "ubuntu", "fedora", "rhel", "centos", "rocky", "almalinux", "ol", "amzn", "arch", "manjaro",
        "suse", "opensuse", "opensuse-leap", "opensuse-tumbleweed", "sles", "linuxmint", "pop", "raspbian",
        "kali", "mageia", "elementary", "nixos",
    ]

    static func parseOSRelease(_ contents: [UInt8]) -> LibcDetection? {
        var identifiers: [String] = []
        for line in String(decoding: contents, as: UTF8.self).split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingSpaces
            guard key == "ID" || key == "ID_LIKE" else { continue }
            var value = line[line.index(after: equals)...].trimmingSpaces
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
            }
            identifiers += value.lowercased().split(separator: " ").map(String.init)
        }
        if identifiers.contains(where: muslDistributions.contains) {
            return LibcDetection(family: .musl, version: nil, source: .osRelease, note: nil)
        }
        if identifiers.contains(where: gnuDistributions.contains) {
            return LibcDetection(family: .gnu, version: nil, source: .osRelease, note: nil)
        }
        return nil
    }

    func fromMaps() -> LibcDetection? {
        guard let contents = try? FileSystem.readContents(FilePath("/proc/self/maps"), limit: 1 << 20) else { return nil }
        return LibcDetector.parseMaps(contents)
    }

    static func parseMaps(_ contents: [UInt8]) -> LibcDetection? {
        let text = String(decoding: contents, as: UTF8.self)
        if text.contains("ld-musl") || text.contains("libc.musl") {
            return LibcDetection(family: .musl, version: nil, source: .maps, note: nil)
        }
        if text.contains("libc.so.6") || text.contains("/ld-linux") {
            return LibcDetection(family: .gnu, version: nil, source: .maps, note: nil)
        }
        return nil
    }

    /// "2.36" from "2.36" or "2.36-9+deb12u4"; nil unless it starts with digits.digits.
    static func versionNumber(_ token: String) -> String? {
        let number = token.prefix { $0.isNumber || $0 == "." }
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        return String(number)
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix)
    }
}
