import CLibc

/// The per-user directory that holds extractions, opened once and then used through its
/// descriptor so a path swapped underneath us cannot redirect our writes.
struct CacheDirectory {
    var path: [UInt8]
    var descriptor: FileDescriptor

    func pathOf(_ name: [UInt8]) -> [UInt8] { joined(path, [slash], name) }

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

    private static func prepare(_ path: [UInt8]) -> Result<CacheDirectory, Failure> {
        openPrivateDirectory(path, forbiddenBits: 0o022).map { CacheDirectory(path: path, descriptor: $0) }.mapError { refusal in
            switch refusal {
            case .cannotCreate(let prefix, let errno): return cannotUse(prefix, errno)
            case .cannotOpen(let errno), .cannotStat(let errno): return cannotUse(path, errno)
            case .ownedByAnotherUser: return Failure(.noCacheDirectory, path: path, "cache directory is owned by another user")
            case .tooPermissive: return Failure(.noCacheDirectory, path: path, "cache directory is group- or world-writable")
            }
        }
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
