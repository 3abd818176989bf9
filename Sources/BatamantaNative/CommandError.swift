import Glibc

/// The error codes of docs/PROTOCOL.md.
enum ErrorCode: String, Sendable {
    case badRequest = "bad_request"
    case unknownCommand = "unknown_command"
    case invalidArgument = "invalid_argument"
    case enoent
    case eacces
    case enospc
    case ioError = "io_error"
    case noTrailer = "no_trailer"
    case corrupt
    case httpError = "http_error"
    case notFound = "not_found"
    case timeout
    case checksumMismatch = "checksum_mismatch"
    case unsupported
    case busy
}

/// What a command returns instead of crashing: a protocol error code and a message that
/// names the file, path or URL involved and, where there is one, the fix.
struct CommandError: Error, Equatable {
    var code: ErrorCode
    var message: String

    init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    static func invalidArgument(_ message: String) -> CommandError {
        CommandError(.invalidArgument, message)
    }
}

extension CommandError {
    /// A failed system call on `path`, mapped to the protocol's errno-like codes.
    init(_ errno: Errno, _ operation: String, _ path: FilePath) {
        let code: ErrorCode
        switch errno.rawValue {
        case ENOENT, ENOTDIR: code = .enoent
        case EACCES, EPERM, EROFS: code = .eacces
        case ENOSPC, EDQUOT: code = .enospc
        default: code = .ioError
        }
        self.init(code, "cannot \(operation) \(path): \(errno)")
    }
}
