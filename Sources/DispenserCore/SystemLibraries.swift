import CLibc

/// Whether this system has a shared library, looked up where glibc's and musl's loaders
/// look. It errs towards "present": a false alarm would refuse a binary that runs, while
/// a miss only leaves the loader's own error, as without the check.
enum SystemLibraries {
    // Most specific first: the lookup only asks whether any holds a library, but Preflight
    // takes the first libc.so.6, and a biarch system keeps its 32-bit one in /lib.
    #if arch(arm64)
    static let defaultPath: StaticString = "/lib/aarch64-linux-gnu:/usr/lib/aarch64-linux-gnu:/lib64:/usr/lib64:/lib:/usr/lib:/usr/local/lib"
    static let muslPathFile: StaticString = "/etc/ld-musl-aarch64.path"
    static let muslLoader: StaticString = "/lib/ld-musl-aarch64.so.1"
    #else
    static let defaultPath: StaticString = "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib64:/usr/lib64:/lib:/usr/lib:/usr/local/lib"
    static let muslPathFile: StaticString = "/etc/ld-musl-x86_64.path"
    static let muslLoader: StaticString = "/lib/ld-musl-x86_64.so.1"
    #endif

    /// The first of `names` this system does not have.
    static func firstMissing(_ names: [[UInt8]]) -> [UInt8]? {
        guard !names.isEmpty else { return nil }
        let colon = [UInt8(ascii: ":")]
        let path = joined(Environment.value("LD_LIBRARY_PATH") ?? [], colon, contents(of: bytes(muslPathFile)), colon, bytes(defaultPath))
        var loaderCache: [UInt8]?
        for name in names where !inDirectory(of: path, name) {
            if loaderCache == nil { loaderCache = contents(of: bytes("/etc/ld.so.cache")) }
            if !listed(name, in: loaderCache!) { return name }
        }
        return nil
    }

    /// Whether a directory of `path` (separated by `:` as in LD_LIBRARY_PATH, or by
    /// newlines as in musl's path file) holds `name`. lstat: a dangling symlink counts as
    /// present, which errs the safe way.
    static func inDirectory(of path: [UInt8], _ name: [UInt8]) -> Bool {
        var start = 0
        while start < path.count {
            var end = start
            while end < path.count, path[end] != UInt8(ascii: ":"), path[end] != UInt8(ascii: "\n") { end += 1 }
            if end > start, case .success = FileDescriptor.currentDirectory.status(of: joined(Array(path[start..<end]), [slash], name)) {
                return true
            }
            start = end + 1
        }
        return false
    }

    /// ld.so.cache holds every library it indexes by name and by path, each NUL-ended, so
    /// a name that starts a string or follows a `/` is listed whatever the cache's format.
    static func listed(_ name: [UInt8], in cache: [UInt8]) -> Bool {
        let needle = joined(name, [0])
        var start = 0
        while start + needle.count <= cache.count {
            if start == 0 || cache[start - 1] == 0 || cache[start - 1] == slash {
                var matched = 0
                while matched < needle.count, cache[start + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return true }
            }
            start += 1
        }
        return false
    }

    /// The whole file, or nothing when it is missing, unreadable or implausibly large.
    static func contents(of path: [UInt8]) -> [UInt8] {
        let limit = 1 << 26
        guard case .success(let file) = FileDescriptor.currentDirectory.open(path, O_RDONLY) else { return [] }
        defer { file.close() }
        guard case .success(let data) = file.readAll(limit: limit), data.count < limit else { return [] }
        return data
    }
}
