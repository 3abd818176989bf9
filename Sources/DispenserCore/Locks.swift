import CLibc

/// Extractions are locked with flock on the directory itself: LOCK_SH by every process
/// running from it (the descriptor is inherited across exec, so the VM holds it), LOCK_EX
/// by the process extracting it or deleting it. A lock dies with its holder, so a free
/// LOCK_EX proves nobody uses the tree, and a dead extractor's leftovers are recognizable.
enum ExtractionLock {
    /// Opens extraction `name` of `app` and holds LOCK_SH on it, or returns nil when it does
    /// not exist, was removed or replaced while we waited for the lock, or is not ours: not a
    /// directory, another user's (which we may not even open), or without our completion
    /// marker (an empty dir of that name).
    static func openShared(_ name: [UInt8], of app: [UInt8], in cache: CacheDirectory) throws(Failure) -> FileDescriptor? {
        let directory: FileDescriptor
        switch cache.descriptor.openDirectory(name, inheritable: true) {
        case .success(let fd): directory = fd
        case .failure(let errno) where [ENOENT, ENOTDIR, ELOOP, EACCES].contains(errno.rawValue): return nil
        case .failure(let errno): throw Failure(errno: errno, path: cache.pathOf(name), "cannot open extraction")
        }
        try lock(directory, LOCK_SH, at: cache.pathOf(name))
        guard case .success(let opened) = directory.status(), case .success(let named) = cache.descriptor.status(of: name),
            opened.st_dev == named.st_dev, opened.st_ino == named.st_ino, opened.st_uid == geteuid(),
            Extraction.readMarker(directory) == Extraction.marker(app: app, name: name)
        else {
            directory.close()
            return nil
        }
        return directory
    }

    /// Takes `operation`, closing `directory` when it cannot.
    static func lock(_ directory: FileDescriptor, _ operation: Int32, at path: [UInt8]) throws(Failure) {
        try directory.lock(operation).orThrow { errno in
            directory.close()
            return Failure(errno: errno, path: path, "cannot lock extraction")
        }
    }

    /// Takes LOCK_EX without waiting; false when someone holds any lock on it.
    static func tryExclusive(_ directory: FileDescriptor) -> Bool {
        if case .success = directory.lock(LOCK_EX | LOCK_NB) { return true }
        return false
    }
}
