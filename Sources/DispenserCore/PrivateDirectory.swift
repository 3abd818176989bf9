import CLibc

/// Why `openPrivateDirectory` refused; each caller words it for its own directory.
enum PrivateDirectoryFailure: Error {
    /// Creating `path`, the directory or one of its parents, failed.
    case cannotCreate(path: [UInt8], Errno)
    case cannotOpen(Errno)
    case cannotStat(Errno)
    case ownedByAnotherUser
    case tooPermissive
}

/// Opens the directory at `path`, creating it and missing parents (0700) when it does not
/// exist, and refuses, as ssh does for key files, one that another user owns or whose
/// mode has any of `forbiddenBits`: whoever could write there could swap what we run.
func openPrivateDirectory(_ path: [UInt8], forbiddenBits: UInt32) throws(PrivateDirectoryFailure) -> FileDescriptor {
    var opened = FileDescriptor.currentDirectory.open(path, O_RDONLY | O_DIRECTORY)
    if case .failure(let errno) = opened, errno == Errno(ENOENT) {
        var index = 1
        while index <= path.count {
            if index == path.count || path[index] == slash {
                let prefix = Array(path[0..<index])
                if case .failure(let errno) = FileDescriptor.currentDirectory.makeDirectory(prefix, mode: 0o700), errno != Errno(EEXIST) {
                    throw .cannotCreate(path: prefix, errno)
                }
            }
            index += 1
        }
        opened = FileDescriptor.currentDirectory.open(path, O_RDONLY | O_DIRECTORY)
    }
    let descriptor = try opened.orThrow { PrivateDirectoryFailure.cannotOpen($0) }
    let refusal: PrivateDirectoryFailure
    switch descriptor.status() {
    case .success(let info) where info.st_uid != geteuid(): refusal = .ownedByAnotherUser
    case .success(let info) where UInt32(info.st_mode) & forbiddenBits != 0: refusal = .tooPermissive
    case .success: return descriptor
    case .failure(let errno): refusal = .cannotStat(errno)
    }
    descriptor.close()
    throw refusal
}
