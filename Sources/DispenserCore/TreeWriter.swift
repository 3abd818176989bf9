import CLibc

/// Materializes tar events under a directory descriptor. Every component is opened with
/// O_NOFOLLOW and every file created with O_EXCL, so even an entry TarReader failed to
/// refuse cannot write through a symlink or over an existing file.
///
/// Durability without syncfs, which would wait for every other program's dirty data: each
/// file's writeback starts as soon as it is written, then the file goes to a FileSyncer
/// whose fdatasync overlaps the writing of the next files, and `finish` adds every
/// directory's fsync. Once `finish` returns, every file, its contents and its name are on
/// disk.
struct TreeWriter {
    private let root: FileDescriptor
    private let rootPath: [UInt8]
    private var parentPath: [UInt8] = []
    private var parent: FileDescriptor
    private var file: FileDescriptor?
    private var entry = TarEntryHeader(path: [], kind: .file, mode: 0)
    /// Directories are created 0700 and get their real mode at the end, so a read-only
    /// directory in the payload can still be filled.
    private var directoryModes: [(path: [UInt8], mode: UInt32)] = []
    /// Nil once finished or abandoned.
    private var syncer: FileSyncer?

    /// Nil when the syncer cannot be allocated.
    init?(root: FileDescriptor, rootPath: [UInt8]) {
        guard let syncer = FileSyncer() else { return nil }
        self.root = root
        self.rootPath = rootPath
        self.syncer = syncer
        parent = root
    }

    mutating func handle(_ event: TarEvent) throws(Failure) {
        switch event {
        case .entryStart(let header):
            entry = header
            try begin()
        case .data(let bytes):
            guard let file else { return }
            try file.writeAll(bytes).orThrow { failure($0, "cannot write", at: entry.path) }
        case .entryEnd:
            guard let file else { return }
            self.file = nil
            if case .failure(let errno) = file.setMode(entry.mode & 0o777) {
                file.close()
                throw failure(errno, "cannot set mode of", at: entry.path)
            }
            file.startWriteback()
            syncer?.submit(file)
        }
    }

    private mutating func begin() throws(Failure) {
        let slashIndex = entry.path.lastIndex(of: slash)
        let directory = slashIndex.map { Array(entry.path[..<$0]) } ?? []
        let name = slashIndex.map { Array(entry.path[($0 + 1)...]) } ?? entry.path
        if directory != parentPath {
            closeParent()
            parent = try openBelowRoot(directory).orThrow { failure($0, "cannot open directory", at: entry.path) }
            parentPath = directory
        }
        switch entry.kind {
        case .file:
            file = try parent.open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600).orThrow { failure($0, "cannot create", at: entry.path) }
        case .directory:
            try parent.makeDirectory(name, mode: 0o700).orThrow { failure($0, "cannot create directory", at: entry.path) }
            directoryModes.append((entry.path, entry.mode & 0o777))
        case .symlink:
            try parent.makeSymlink(name, target: entry.linkTarget).orThrow { failure($0, "cannot create symlink", at: entry.path) }
        }
    }

    /// Opens `path` one component at a time, so no component can be a symlink.
    private func openBelowRoot(_ path: [UInt8]) -> Result<FileDescriptor, Errno> {
        var current = root
        for component in path.split(separator: slash) {
            let next = current.openDirectory(Array(component))
            if current.rawValue != root.rawValue { current.close() }
            switch next {
            case .success(let fd): current = fd
            case .failure(let errno): return .failure(errno)
            }
        }
        return .success(current)
    }

    private mutating func closeParent() {
        if parent.rawValue != root.rawValue { parent.close() }
        parent = root
        parentPath = []
    }

    /// Applies directory modes, deepest first so no parent is locked before its children,
    /// syncs each directory, and waits for every sync. The root is the caller's.
    mutating func finish() throws(Failure) {
        closeParent()
        for directory in directoryModes.reversed() {
            let fd = try openBelowRoot(directory.path).orThrow { failure($0, "cannot open directory", at: directory.path) }
            if case .failure(let errno) = fd.setMode(directory.mode) {
                fd.close()
                throw failure(errno, "cannot set mode of", at: directory.path)
            }
            syncer?.submit(fd, whole: true)
        }
        guard let syncer = syncer.take() else { return }
        try syncer.finish().orThrow { Failure(errno: $0, path: rootPath, "cannot sync", otherwise: .ioError) }
    }

    /// Releases descriptors after a failure.
    mutating func abandon() {
        file?.close()
        file = nil
        _ = syncer.take()?.finish()
        closeParent()
    }

    /// `path` is the entry's, relative to the root.
    private func failure(_ errno: Errno, _ message: StaticString, at path: [UInt8]) -> Failure {
        Failure(errno: errno, path: joined(rootPath, [slash], path), message, otherwise: .ioError)
    }
}
