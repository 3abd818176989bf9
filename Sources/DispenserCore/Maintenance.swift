import CLibc

/// `BATAMANTA_MAINTENANCE=info|path|uninstall`: the binary describes or removes its own
/// extractions instead of running the app. A variable rather than an argument, so the
/// app's argv stays exactly what its user typed, in every mode.
enum Maintenance {
    /// nil when the variable is unset or empty, and the app is to run.
    static func run(_ image: SelfImage) throws(Failure) -> Int32? {
        guard let request = Environment.nonEmpty("BATAMANTA_MAINTENANCE") else { return nil }
        let (app, name) = try extractionName(image)
        switch request {
        case Array("info".utf8): try info(image, name: name)
        case Array("path".utf8): print(try CacheDirectory.locate().pathOf(name))
        case Array("uninstall".utf8): return try uninstall(app: app, name: name)
        default:
            throw Failure(.usage, path: image.executablePath,
                          text: joined(Array("BATAMANTA_MAINTENANCE must be info, path or uninstall, not '".utf8), request, Array("'".utf8)))
        }
        return 0
    }

    private static func info(_ image: SelfImage, name: [UInt8]) throws(Failure) {
        let cache = try CacheDirectory.locate()
        defer { cache.descriptor.close() }
        let metadata = image.metadata
        let field = { (key: StaticString, value: [UInt8]?) in
            let label = bytes(key)
            print(joined(label, [UInt8](repeating: UInt8(ascii: " "), count: max(1, 12 - label.count)), value ?? [UInt8(ascii: "-")]))
        }
        field("batamanta", metadata.first(bytes("batamanta")))
        field("app", metadata.first(bytes("app")))
        field("release", metadata.first(bytes("release")))
        field("version", metadata.first(bytes("version")))
        field("format", metadata.first(bytes("format")))
        field("mode", metadata.first(bytes("mode")))
        field("target", metadata.first(bytes("target")))
        field("otp", metadata.first(bytes("otp_version")))
        field("hash", hexDigits(image.trailer.contentHash))
        field("binary", image.executablePath)
        field("cache", cache.path)
        field("extraction", joined(cache.pathOf(name), Array(" (".utf8), state(of: name, in: cache), Array(")".utf8)))
    }

    /// Whether the extraction is complete (has its marker) and whether a process runs from it.
    private static func state(of name: [UInt8], in cache: CacheDirectory) -> [UInt8] {
        guard case .success(let directory) = cache.descriptor.openDirectory(name) else { return Array("not extracted".utf8) }
        defer { directory.close() }
        guard case .success = directory.status(of: Extraction.markerName) else { return Array("incomplete".utf8) }
        return ExtractionLock.tryExclusive(directory) ? Array("extracted, not in use".utf8) : Array("extracted, in use".utf8)
    }

    /// Removes this app's extractions that nothing runs from, by the cache's own rules
    /// (marker naming the app, LOCK_EX taken without waiting, renamed to trash first).
    private static func uninstall(app: [UInt8], name: [UInt8]) throws(Failure) -> Int32 {
        let cache = try CacheDirectory.locate()
        defer { cache.descriptor.close() }
        Cleanup.removeUnused(app: app, keeping: [], in: cache)
        if case .success = cache.descriptor.status(of: name) {
            FileDescriptor.standardError.writeAll(joined(Array("batamanta: ".utf8), cache.pathOf(name), Array(": in use by a running process; kept\n".utf8)))
            return 1
        }
        print(joined(Array("removed the extractions of ".utf8), app, Array(" from ".utf8), cache.path))
        return 0
    }

    private static func print(_ line: [UInt8]) {
        FileDescriptor.standardOutput.writeAll(joined(line, [UInt8(ascii: "\n")]))
    }
}
