import Glibc

/// `:lock` and `:unlock`: exclusive `flock`s held by this process on behalf of the Mix
/// side, which has no flock of its own. The lock lives as long as its descriptor, and
/// the descriptor as long as this helper, which exits on the port's EOF: a `mix
/// batamanta` killed by any signal therefore never leaves a lock behind.
enum Lock {
    /// Requests are served one at a time on one thread; nothing else touches this.
    nonisolated(unsafe) private static var held: [Int64: FileDescriptor] = [:]
    nonisolated(unsafe) private static var nextHandle: Int64 = 1

    private static let pollMilliseconds: Int32 = 100

    static func run(_ arguments: Arguments, _ context: RequestContext) throws(CommandError) -> Term {
        let path = try arguments.path("path")
        let wait = try arguments.bool("wait", default: true)
        let create = try arguments.bool("create", default: true)
        let descriptor = try open(path, create: create)
        if try !tryLock(descriptor) {
            guard wait else {
                throw CommandError(.busy, "\(path) is locked by another process")
            }
            context.progress.report(stage: "lock", done: 0, total: 0)
            repeat {
                if context.cancellation.wait(milliseconds: pollMilliseconds) {
                    throw CommandError(.ioError, "the port closed while waiting for the lock on \(path)")
                }
            } while try !tryLock(descriptor)
        }
        let handle = nextHandle
        nextHandle += 1
        held[handle] = descriptor
        return .record(["lock": .integer(handle)])
    }

    static func unlock(_ arguments: Arguments, _ context: RequestContext) throws(CommandError) -> Term {
        let handle = try arguments.integer("lock", in: 1...Int64.max)
        guard let descriptor = held.removeValue(forKey: handle) else {
            throw .invalidArgument(":unlock got lock \(handle), which this helper does not hold")
        }
        try descriptor.close()
        return .record([:])
    }

    /// Directories are locked as they are (the dispenser locks its extractions that way);
    /// anything else is a lock file, created unless `create` is false.
    private static func open(_ path: FilePath, create: Bool) throws(CommandError) -> FileDescriptor {
        var result = FileDescriptor.opening(path, O_RDONLY | (create ? O_CREAT : 0))
        if case .failure(let errno) = result, errno.rawValue == EISDIR {
            result = FileDescriptor.opening(path, O_RDONLY | O_DIRECTORY)
        }
        switch result {
        case .success(let descriptor): return descriptor
        case .failure(let errno): throw CommandError(errno, "open", path)
        }
    }

    private static func tryLock(_ descriptor: FileDescriptor) throws(CommandError) -> Bool {
        switch retryingOnInterrupt({ flock(descriptor.rawValue, LOCK_EX | LOCK_NB) }) {
        case .success: return true
        case .failure(let errno) where errno.rawValue == EWOULDBLOCK: return false
        case .failure(let errno): throw CommandError(errno, "lock", descriptor.path)
        }
    }
}
