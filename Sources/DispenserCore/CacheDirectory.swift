import CLibc

/// The per-user directory that holds extractions, opened once and then used through its
/// descriptor so a path swapped underneath us cannot redirect our writes.
struct CacheDirectory {
    var path: [UInt8]
    var descriptor: FileDescriptor

    /// `$BATAMANTA_CACHE_DIR`, else `$XDG_CACHE_HOME/batamanta`, else `~/.cache/batamanta`;
    /// when HOME is unset or not writable, a private `$TMPDIR/batamanta-<uid>`.
    static func locate() -> Result<CacheDirectory, Failure> {
        if let explicit = Environment.nonEmpty("BATAMANTA_CACHE_DIR") {
            return prepare(absolute(explicit))
        }
        var home: [UInt8]?
        if let xdg = Environment.nonEmpty("XDG_CACHE_HOME"), xdg.first == slash {
            home = joined(xdg, Array("/batamanta".utf8))
        } else if let userHome = Environment.nonEmpty("HOME") {
            home = joined(absolute(userHome), Array("/.cache/batamanta".utf8))
        }
        if let home {
            let result = prepare(home)
            switch result {
            case .success(let directory):
                let writable = withCPath(home) { faccessat(AT_FDCWD, $0, W_OK | X_OK, AT_EACCESS) } == 0
                if writable { return result }
                directory.descriptor.close()
            case .failure(let failure) where failure.code == .permissionDenied:
                break
            case .failure:
                return result
            }
        }
        var temporary = Environment.nonEmpty("TMPDIR") ?? Array("/tmp".utf8)
        if temporary.first != slash { temporary = Array("/tmp".utf8) }
        return prepare(joined(temporary, Array("/batamanta-".utf8), decimalDigits(UInt64(geteuid()))))
    }

    /// Creates missing directories (0700) and refuses, as ssh does for key files, a
    /// directory that another user owns or could write to.
    private static func prepare(_ path: [UInt8]) -> Result<CacheDirectory, Failure> {
        var descriptor: FileDescriptor
        switch FileDescriptor.currentDirectory.open(path, O_RDONLY | O_DIRECTORY) {
        case .success(let fd):
            descriptor = fd
        case .failure(let errno) where errno == Errno(ENOENT):
            if let failure = makeDirectories(path) { return .failure(failure) }
            switch FileDescriptor.currentDirectory.open(path, O_RDONLY | O_DIRECTORY) {
            case .success(let fd): descriptor = fd
            case .failure(let errno): return .failure(cannotUse(path, errno))
            }
        case .failure(let errno):
            return .failure(cannotUse(path, errno))
        }
        guard case .success(let info) = descriptor.status() else {
            descriptor.close()
            return .failure(cannotUse(path, .current))
        }
        if info.st_uid != geteuid() {
            descriptor.close()
            return .failure(Failure(.noCacheDirectory, path: path, "cache directory is owned by another user"))
        }
        if info.st_mode & 0o022 != 0 {
            descriptor.close()
            return .failure(Failure(.noCacheDirectory, path: path, "cache directory is group- or world-writable"))
        }
        return .success(CacheDirectory(path: path, descriptor: descriptor))
    }

    private static func makeDirectories(_ path: [UInt8]) -> Failure? {
        var index = 1
        while index <= path.count {
            if index == path.count || path[index] == slash {
                let prefix = Array(path[0..<index])
                if withCPath(prefix, { mkdir($0, 0o700) }) != 0, Errno.current != Errno(EEXIST) {
                    return cannotUse(prefix, .current)
                }
            }
            index += 1
        }
        return nil
    }

    private static func cannotUse(_ path: [UInt8], _ errno: Errno) -> Failure {
        Failure(errno: errno.rawValue, path: path, "cannot use cache directory", otherwise: .noCacheDirectory)
    }

    private static func absolute(_ path: [UInt8]) -> [UInt8] {
        guard path.first != slash else { return path }
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX))
        let ok = buffer.withUnsafeMutableBytes { getcwd($0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) } != nil
        guard ok else { return path }
        return joined(Array(buffer.prefix { $0 != 0 }), [slash], path)
    }
}
