import CLibc

/// After a cold start, deletes what no running process uses: older extractions of this
/// app and dirs left by extractors or cleaners that died. Only names we generate are
/// considered, extractions only with our marker naming this app, and only when LOCK_EX
/// can be taken without waiting. Best effort: a failure here never stops the launch.
enum Cleanup {
    static func removeUnused(app: [UInt8], keeping current: [UInt8], in cache: CacheDirectory) {
        guard case .success(let names) = cache.descriptor.entryNames() else { return }
        let appPrefix = joined(app, [UInt8(ascii: "-")])
        for name in names where name != current {
            if name.starts(with: Extraction.temporaryPrefix) || name.starts(with: Extraction.trashPrefix) {
                removeIfUnlocked(name, in: cache)
            } else if name.starts(with: Extraction.newPrefix) {
                removeIfAbandoned(name, in: cache)
            } else if name.starts(with: appPrefix), hasHashSuffix(name) {
                removeIfUnlocked(name, in: cache, extractionOf: app)
            }
        }
    }

    /// `<app>-<version>-<16 hex>`
    private static func hasHashSuffix(_ name: [UInt8]) -> Bool {
        guard name.count > 17, name[name.count - 17] == UInt8(ascii: "-") else { return false }
        return name.suffix(16).allSatisfy { ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f")) }
    }

    private static func isExtraction(_ directory: FileDescriptor, of app: [UInt8]) -> Bool {
        Extraction.readMarker(directory)?.starts(with: joined(Array("app=".utf8), app, [UInt8(ascii: "\n")])) == true
    }

    /// Renames to a trash name under LOCK_EX first, so a starting process that raced us
    /// sees the name vanish and extracts afresh instead of running a half-deleted tree.
    /// With `app`, only an extraction of it: the marker is read through the descriptor that
    /// gets locked, so it vouches for the tree that is removed.
    static func removeIfUnlocked(_ name: [UInt8], in cache: CacheDirectory, extractionOf app: [UInt8]? = nil) {
        guard case .success(let directory) = cache.descriptor.openDirectory(name) else { return }
        defer { directory.close() }
        if let app, !isExtraction(directory, of: app) { return }
        guard ExtractionLock.tryExclusive(directory) else { return }
        var victim = name
        if !name.starts(with: Extraction.trashPrefix) {
            let trash = joined(Extraction.trashPrefix, randomSuffix())
            guard case .success = cache.descriptor.rename(name, to: trash) else { return }
            victim = trash
        }
        _ = cache.descriptor.removeTree(victim)
    }

    /// A `.batamanta-new-*` dir is locked microseconds after creation, so one older than
    /// a minute belongs to a process killed in between.
    private static func removeIfAbandoned(_ name: [UInt8], in cache: CacheDirectory) {
        guard case .success(let info) = cache.descriptor.status(of: name) else { return }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        guard now.tv_sec - info.st_mtim.tv_sec > 60 else { return }
        removeIfUnlocked(name, in: cache)
    }
}
