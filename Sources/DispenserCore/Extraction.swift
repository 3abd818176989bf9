import CLibc

/// Cold start: stream the payload from our own file through SHA-256 and zstd (each on a
/// thread of its own: DecodingPipeline) and the tar reader into a private temp dir,
/// verify everything, then rename it into place. The payload is never held in memory;
/// only a few fixed-size buffers are.
enum Extraction {
    static let markerName: [UInt8] = Array(".batamanta-extraction".utf8)
    /// Prefix of a dir whose creator has not locked it yet (only for microseconds).
    static let newPrefix: [UInt8] = Array(".batamanta-new-".utf8)
    /// Prefix of a dir being extracted; its extractor holds LOCK_EX on it.
    static let temporaryPrefix: [UInt8] = Array(".batamanta-tmp-".utf8)
    /// Prefix of a dir being deleted.
    static let trashPrefix: [UInt8] = Array(".batamanta-trash-".utf8)

    /// Extracts into `cache` under `name` and returns the extraction holding LOCK_SH. If
    /// another process finished first, ours is deleted and theirs is returned.
    static func extract(_ image: SelfImage, named name: [UInt8], app: [UInt8], in cache: CacheDirectory) throws(Failure) -> FileDescriptor {
        let suffix = randomSuffix()
        let newName = joined(newPrefix, suffix)
        let temporaryName = joined(temporaryPrefix, suffix)
        let temporaryPath = cache.pathOf(temporaryName)
        try cache.descriptor.makeDirectory(newName, mode: 0o700).orThrow {
            Failure(errno: $0, path: cache.pathOf(newName), "cannot create directory", otherwise: .noCacheDirectory)
        }
        let directory = try cache.descriptor.openDirectory(newName, inheritable: true).orThrow { errno in
            _ = cache.descriptor.removeTree(newName)
            return Failure(errno: errno, path: cache.pathOf(newName), "cannot open directory")
        }
        var currentName = newName
        do throws(Failure) {
            try directory.lock(LOCK_EX).orThrow { Failure(errno: $0, path: temporaryPath, "cannot lock directory") }
            try cache.descriptor.rename(newName, to: temporaryName).orThrow { Failure(errno: $0, path: temporaryPath, "cannot rename directory") }
            currentName = temporaryName
            try unpack(image, into: directory, at: temporaryPath)
            try writeMarker(app: app, name: name, into: directory, at: temporaryPath)
            // The tree below is on disk (TreeWriter.finish), the marker too: the root's own
            // entries are the last thing that must be, before the rename publishes it.
            try directory.synchronize().orThrow { Failure(errno: $0, path: temporaryPath, "cannot sync", otherwise: .ioError) }
        } catch {
            _ = cache.descriptor.removeTree(currentName)
            directory.close()
            throw error
        }

        // Whatever holds the name and is not a finished extraction of ours (an empty dir of
        // that name, say) is moved aside; a bounded number of tries, as concurrent starters
        // may be doing the same.
        for _ in 0..<3 {
            switch cache.descriptor.rename(temporaryName, to: name) {
            case .success:
                // Makes the rename itself durable. Should it fail, a crash can only lose the
                // name, never publish a partial tree: the next start extracts again.
                _ = cache.descriptor.synchronize()
                try ExtractionLock.lock(directory, LOCK_SH, at: cache.pathOf(name))
                return directory
            case .failure(let errno) where errno == Errno(EEXIST) || errno == Errno(ENOTEMPTY) || errno == Errno(ENOTDIR) || errno == Errno(EBUSY):
                let winner: FileDescriptor?
                do throws(Failure) {
                    winner = try ExtractionLock.openShared(name, of: app, in: cache)
                } catch {
                    discard(temporaryName, directory, in: cache)
                    throw error
                }
                if let winner {
                    discard(temporaryName, directory, in: cache)
                    return winner
                }
                let trash = joined(trashPrefix, randomSuffix())
                switch cache.descriptor.rename(name, to: trash) {
                // A file or symlink goes at once; a tree only when nobody holds a lock on it.
                case .success: if case .failure = cache.descriptor.remove(trash) { Cleanup.removeIfUnlocked(trash, in: cache) }
                case .failure(let errno) where errno == Errno(ENOENT): break
                case .failure(let errno):
                    discard(temporaryName, directory, in: cache)
                    throw Failure(errno: errno, path: cache.pathOf(name), "is not an extraction of this binary and cannot be moved aside; remove it")
                }
            case .failure(let errno):
                discard(temporaryName, directory, in: cache)
                throw Failure(errno: errno, path: cache.pathOf(name), "cannot rename extraction into place")
            }
        }
        discard(temporaryName, directory, in: cache)
        throw Failure(.osError, path: cache.pathOf(name), "extraction keeps being replaced while starting")
    }

    private static func discard(_ temporaryName: [UInt8], _ directory: FileDescriptor, in cache: CacheDirectory) {
        _ = cache.descriptor.removeTree(temporaryName)
        directory.close()
    }

    private static func unpack(_ image: SelfImage, into root: FileDescriptor, at rootPath: [UInt8]) throws(Failure) {
        var decoded = try DecodingPipeline(image)
        guard var writer = TreeWriter(root: root, rootPath: rootPath) else {
            throw Failure(.osError, path: rootPath, "cannot allocate the file syncer")
        }
        defer { writer.abandon() }
        var tar = TarReader()
        while var chunk = try decoded.next() {
            while let event = try Failure.checking(image.executablePath, { () throws(FormatError) in try tar.next(&chunk) }) {
                try writer.handle(event)
            }
        }
        try Failure.checking(image.executablePath) { () throws(FormatError) -> Void in try tar.finish() }
        try writer.finish()
    }

    /// The marker says "batamanta made this, for this app": cleanup deletes nothing without
    /// it, and a warm start runs nothing without it.
    static func marker(app: [UInt8], name: [UInt8]) -> [UInt8] {
        joined(Array("app=".utf8), app, Array("\nname=".utf8), name, [UInt8(ascii: "\n")])
    }

    /// The marker's contents, or nil when `root` has none we could read.
    static func readMarker(_ root: FileDescriptor) -> [UInt8]? {
        guard case .success(let file) = root.open(markerName, O_RDONLY | O_NOFOLLOW) else { return nil }
        defer { file.close() }
        guard case .success(let contents) = file.readAll(limit: 4096) else { return nil }
        return contents
    }

    private static func writeMarker(app: [UInt8], name: [UInt8], into root: FileDescriptor, at rootPath: [UInt8]) throws(Failure) {
        let path = joined(rootPath, [slash], markerName)
        let marker = try root.open(markerName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o444).orThrow {
            Failure(errno: $0, path: path, "cannot create", otherwise: .ioError)
        }
        defer { marker.close() }
        try marker.writeAll(Self.marker(app: app, name: name)).orThrow {
            Failure(errno: $0, path: path, "cannot write", otherwise: .ioError)
        }
        try marker.synchronizeData().orThrow { Failure(errno: $0, path: path, "cannot sync", otherwise: .ioError) }
    }
}
