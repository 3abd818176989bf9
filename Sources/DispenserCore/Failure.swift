import CLibc

/// The one error type of the dispenser: what to print and which code to exit with.
/// It stays a value until `main` reports it.
struct Failure: Error {
    var code: ExitCode
    var path: [UInt8]
    var message: [UInt8]
    var detail: [UInt8] = []
    /// Errno(0) when no system call failed.
    var errno = Errno(0)

    init(_ code: ExitCode, path: [UInt8], _ message: StaticString, detail: [UInt8] = []) {
        self.init(code, path: path, text: bytes(message), detail: detail)
    }

    init(_ code: ExitCode, path: [UInt8], text: [UInt8], detail: [UInt8] = []) {
        self.code = code
        self.path = path
        self.message = text
        self.detail = detail
    }

    /// A failed system call on `path`. Permission and disk-space problems get their own
    /// codes whatever the operation, because that is what the user can act on.
    init(errno: Errno, path: [UInt8], _ message: StaticString, otherwise: ExitCode = .osError) {
        switch errno.rawValue {
        case EACCES, EPERM, EROFS: code = .permissionDenied
        case ENOSPC, EDQUOT, EIO: code = .ioError
        default: code = otherwise
        }
        self.path = path
        self.message = bytes(message)
        self.errno = errno
    }

    init(_ error: FormatError, path: [UInt8]) {
        code = error == .noTrailer ? .noPayload : .corruptPayload
        self.path = path
        message = bytes(error.summary)
        if case .unsafeEntry(_, let entry) = error { detail = entry }
    }

    /// Runs a check of BatamantaFormat's on the file at `path`, whose FormatError becomes
    /// that file's failure.
    static func checking<Checked>(_ path: [UInt8], _ body: () throws(FormatError) -> Checked) throws(Failure) -> Checked {
        do throws(FormatError) {
            return try body()
        } catch {
            throw Failure(error, path: path)
        }
    }

    /// `batamanta: <path>: <message>[ <detail>][: <strerror>]`
    func report() {
        var line: [UInt8] = Array("batamanta: ".utf8)
        if !path.isEmpty {
            line.append(contentsOf: path)
            line.append(contentsOf: ": ".utf8)
        }
        line.append(contentsOf: message)
        if !detail.isEmpty {
            line.append(contentsOf: " '".utf8)
            line.append(contentsOf: detail)
            line.append(UInt8(ascii: "'"))
        }
        if errno != Errno(0) {
            line.append(contentsOf: ": ".utf8)
            line.append(contentsOf: errno.description)
        }
        line.append(UInt8(ascii: "\n"))
        FileDescriptor.standardError.writeAll(line)
    }
}
