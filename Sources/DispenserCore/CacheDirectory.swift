import CLibc

/// The per-user directory that holds extractions, opened once and then used through its
/// descriptor so a path swapped underneath us cannot redirect our writes.
struct CacheDirectory {
    var path: [UInt8]
    var descriptor: FileDescriptor

    func pathOf(_ name: [UInt8]) -> [UInt8] { joined(path, [slash], name) }

    /// `$BATAMANTA_CACHE_DIR`, else `$XDG_CACHE_HOME/batamanta`, else `~/.cache/batamanta`;
    /// when HOME is unset or not writable, a private `$TMPDIR/batamanta-<uid>`.
    static func locate() throws(Failure) -> CacheDirectory {
        if let explicit = Environment.nonEmpty("BATAMANTA_CACHE_DIR") {
            return try prepare(absolute(explicit))
        }
        var home: [UInt8]?
        if let xdg = Environment.nonEmpty("XDG_CACHE_HOME"), xdg.first == slash {
            home = joined(xdg, Array("/batamanta".utf8))
        } else if let userHome = Environment.nonEmpty("HOME") {
            home = joined(absolute(userHome), Array("/.cache/batamanta".utf8))
        }
        if let home {
            do throws(Failure) {
                let directory = try prepare(home)
                if withCPath(home, { faccessat(AT_FDCWD, $0, W_OK | X_OK, AT_EACCESS) }) == 0 { return directory }
                directory.descriptor.close()
            } catch where error.code == .permissionDenied {}
        }
        var temporary = Environment.nonEmpty("TMPDIR") ?? Array("/tmp".utf8)
        if temporary.first != slash { temporary = Array("/tmp".utf8) }
        return try prepare(joined(temporary, Array("/batamanta-".utf8), decimalDigits(UInt64(geteuid()))))
    }

    private static func prepare(_ path: [UInt8]) throws(Failure) -> CacheDirectory {
        let descriptor: FileDescriptor
        do throws(PrivateDirectoryFailure) {
            descriptor = try openPrivateDirectory(path, forbiddenBits: 0o022)
        } catch {
            switch error {
            case .cannotCreate(let prefix, let errno): throw cannotUse(prefix, errno)
            case .cannotOpen(let errno), .cannotStat(let errno): throw cannotUse(path, errno)
            case .ownedByAnotherUser: throw Failure(.noCacheDirectory, path: path, "cache directory is owned by another user")
            case .tooPermissive: throw Failure(.noCacheDirectory, path: path, "cache directory is group- or world-writable")
            }
        }
        do throws(UnsafeAncestor) {
            try checkAncestors(of: descriptor)
        } catch {
            descriptor.close()
            throw Failure(.noCacheDirectory, path: path, "cache directory is inside a directory another user can write to or owns", detail: error.path)
        }
        return CacheDirectory(path: path, descriptor: descriptor)
    }

    private static func cannotUse(_ path: [UInt8], _ errno: Errno) -> Failure {
        Failure(errno: errno, path: path, "cannot use cache directory", otherwise: .noCacheDirectory)
    }

    private static func absolute(_ path: [UInt8]) -> [UInt8] {
        guard path.first != slash else { return path }
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX))
        let ok = buffer.withUnsafeMutableBytes { getcwd($0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) } != nil
        guard ok else { return path }
        return joined(Array(buffer.prefix { $0 != 0 }), [slash], path)
    }
}
