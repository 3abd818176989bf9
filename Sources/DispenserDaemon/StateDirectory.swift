import CLibc

/// `$XDG_STATE_HOME/batamanta/<release>` (default `~/.local/state/batamanta/<release>`):
/// the log, the pid file, the lock and the ready file of each node of the release, named
/// after the node, and the cookie its nodes share. Created 0700 and, like the cache,
/// refused when another user owns it or others can write to it; every file in it is used
/// through its descriptor and created 0600 or 0400.
struct StateDirectory {
    var path: [UInt8]
    var descriptor: FileDescriptor
    /// The node's name: what messages call the daemon, and the stem of its files.
    var app: [UInt8]

    var logName: [UInt8] { joined(app, Array(".log".utf8)) }
    var pidName: [UInt8] { joined(app, Array(".pid".utf8)) }
    var readyName: [UInt8] { joined(app, Array(".ready".utf8)) }
    var lockName: [UInt8] { joined(app, Array(".lock".utf8)) }
    static let cookieName: [UInt8] = Array("cookie".utf8)
    static let temporaryName: [UInt8] = Array("tmp".utf8)

    func pathOf(_ name: [UInt8]) -> [UInt8] { joined(path, [slash], name) }

    /// Without XDG_STATE_HOME or HOME (a bare systemd unit, `env -i`), a private
    /// `$TMPDIR/batamanta-state-<euid>` (`/tmp/...` when TMPDIR is not absolute).
    static func locate(_ node: Node) throws(DaemonFailure) -> StateDirectory {
        var base: [UInt8]
        if let xdg = Environment.nonEmpty("XDG_STATE_HOME"), xdg.first == slash {
            base = joined(xdg, Array("/batamanta".utf8))
        } else if let home = Environment.nonEmpty("HOME"), home.first == slash {
            base = joined(home, Array("/.local/state/batamanta".utf8))
        } else {
            var temporary = Environment.nonEmpty("TMPDIR") ?? Array("/tmp".utf8)
            if temporary.first != slash { temporary = Array("/tmp".utf8) }
            base = joined(temporary, Array("/batamanta-state-".utf8), decimalDigits(UInt64(geteuid())))
        }
        let path = joined(base, [slash], node.release)
        do throws(PrivateDirectoryFailure) {
            return StateDirectory(path: path, descriptor: try openPrivateDirectory(path, forbiddenBits: 0o077), app: node.name)
        } catch {
            switch error {
            case .cannotCreate(let prefix, let errno): throw .system(errno, path: prefix, "cannot create state directory", otherwise: .noCacheDirectory)
            case .cannotOpen(let errno): throw .system(errno, path: path, "cannot open state directory", otherwise: .noCacheDirectory)
            case .cannotStat(let errno): throw .system(errno, path: path, "cannot stat state directory", otherwise: .noCacheDirectory)
            case .ownedByAnotherUser: throw .core(Failure(.noCacheDirectory, path: path, "state directory is owned by another user"))
            case .tooPermissive: throw .core(Failure(.noCacheDirectory, path: path, "state directory is accessible to other users; make it 0700"))
            }
        }
    }

    /// HOME for the VM, whose cookie lookup (`filename:basedir`) fails without one: this
    /// directory when HOME is unset, relative or not a directory we can write to.
    var homeOverride: [[UInt8]] {
        if let home = Environment.nonEmpty("HOME"), home.first == slash,
            withCPath(home, { faccessat(AT_FDCWD, $0, W_OK | X_OK, AT_EACCESS) }) == 0 {
            return []
        }
        return [joined(Array("HOME=".utf8), path)]
    }

    /// Start and stop hold this for their whole run, so they never interleave.
    func lock() throws(DaemonFailure) -> FileDescriptor {
        let lockFile = try descriptor.open(lockName, O_RDWR | O_CREAT | O_NOFOLLOW, mode: 0o600).orThrow {
            DaemonFailure.system($0, path: pathOf(lockName), "cannot open lock file")
        }
        try lockFile.lock(LOCK_EX).orThrow { errno in
            lockFile.close()
            return DaemonFailure.system(errno, path: pathOf(lockName), "cannot lock")
        }
        return lockFile
    }

    /// The whole file, or nil when it does not exist.
    func read(_ name: [UInt8], limit: Int = 1 << 16) throws(DaemonFailure) -> [UInt8]? {
        let file: FileDescriptor
        switch descriptor.open(name, O_RDONLY | O_NOFOLLOW) {
        case .success(let fd): file = fd
        case .failure(let errno) where errno == Errno(ENOENT): return nil
        case .failure(let errno): throw .system(errno, path: pathOf(name), "cannot open", otherwise: .ioError)
        }
        defer { file.close() }
        return try file.readAll(limit: limit).orThrow { DaemonFailure.system($0, path: pathOf(name), "cannot read", otherwise: .ioError) }
    }

    /// Replaces `name` atomically: a reader sees the old or the new contents, never half.
    func write(_ name: [UInt8], _ contents: [UInt8], mode: UInt32 = 0o600) throws(DaemonFailure) {
        let temporary = joined(Array(".".utf8), name, Array(".new-".utf8), randomSuffix())
        let file = try descriptor.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: mode).orThrow {
            DaemonFailure.system($0, path: pathOf(temporary), "cannot create", otherwise: .ioError)
        }
        let written = file.writeAll(contents)
        file.close()
        try written.orThrow { errno in
            remove(temporary)
            return DaemonFailure.system(errno, path: pathOf(temporary), "cannot write", otherwise: .ioError)
        }
        try descriptor.rename(temporary, to: name).orThrow { errno in
            remove(temporary)
            return DaemonFailure.system(errno, path: pathOf(name), "cannot replace", otherwise: .ioError)
        }
    }

    func remove(_ name: [UInt8]) {
        _ = descriptor.remove(name)
    }

    /// The per-user cookie of this release's nodes, made at first use: 40 hex digits from
    /// the kernel's random source, 0400. Never part of the binary, so copies of one binary
    /// owned by different users do not share it. A file written by hand may hold anything
    /// Erlang takes as a cookie: its first line, 1 to 255 bytes.
    func cookie() throws(DaemonFailure) -> [UInt8] {
        guard let existing = try read(StateDirectory.cookieName, limit: 256) else {
            let cookie = joined(randomSuffix(), randomSuffix(), Array(randomSuffix().prefix(8)))
            try write(StateDirectory.cookieName, cookie, mode: 0o400)
            return cookie
        }
        let cookie = Array(existing.prefix { $0 != UInt8(ascii: "\n") })
        guard !cookie.isEmpty, cookie.count <= 255 else {
            throw .core(Failure(.corruptPayload, path: pathOf(StateDirectory.cookieName), "unusable cookie file; delete it to get a new one"))
        }
        return cookie
    }
}
