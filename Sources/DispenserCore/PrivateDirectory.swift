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

/// An ancestor of a private directory that another user could rename it out of.
struct UnsafeAncestor: Error {
    var path: [UInt8]
}

/// Opens the directory at `path`, creating it and missing parents (0700) when it does not
/// exist, and refuses, as ssh does for key files, one that another user owns or whose
/// mode has any of `forbiddenBits`: whoever could write there could swap what we run.
func openPrivateDirectory(_ path: [UInt8], forbiddenBits: UInt32) throws(PrivateDirectoryFailure) -> FileDescriptor {
    // open(2) of another user's 0700 dir fails with EACCES; stat first so that is refused
    // as theirs (the check on the descriptor below is the one that counts).
    if case .success(let info) = FileDescriptor.currentDirectory.status(of: path, followingSymlinks: true), info.st_uid != geteuid() {
        throw .ownedByAnotherUser
    }
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

/// ssh's StrictModes rule for the directories above `directory`: each must belong to root
/// or to us, and only a sticky one may be writable by others, since in a sticky dir only
/// an entry's owner can rename it. Otherwise another user could rename our dir away and
/// plant a tree in its place between our checks and the exec. The walk goes up through
/// `..` from the descriptor, so it checks the directories actually above it, not the
/// names of a path with symlinks in it.
func checkAncestors(of directory: FileDescriptor) throws(UnsafeAncestor) {
    guard case .success(var below) = directory.status(), case .success(var current) = Platform.openParent(directory) else { return }
    defer { current.close() }
    // `/` is its own parent.
    while case .success(let info) = current.status(), info.st_dev != below.st_dev || info.st_ino != below.st_ino {
        let mode = UInt32(info.st_mode)
        if (info.st_uid != 0 && info.st_uid != geteuid()) || (mode & 0o022 != 0 && mode & UInt32(S_ISVTX) == 0) {
            throw UnsafeAncestor(path: Platform.path(of: current) ?? [])
        }
        guard case .success(let parent) = Platform.openParent(current) else { return }
        current.close()
        current = parent
        below = info
    }
}
