import CLibc

/// How a daemon command ends when it does not do what was asked: a core failure
/// (extraction, cache, exec) keeps its sysexits code, everything else carries the status
/// documented in `Help.swift`. It stays a value until `main` prints its one line.
enum DaemonFailure: Error {
    case core(Failure)
    case message(status: Int32, text: [UInt8])

    static let refused: Int32 = 1
    static let usage: Int32 = 64

    static func refused(_ parts: [UInt8]...) -> DaemonFailure {
        .message(status: refused, text: joined(parts))
    }

    static func usage(_ parts: [UInt8]...) -> DaemonFailure {
        .message(status: usage, text: joined(parts + [Array(" (see --help)".utf8)]))
    }

    /// A failed system call on `path`, with the core's errno-to-status mapping.
    static func system(_ errno: Errno, path: [UInt8], _ message: StaticString, otherwise: ExitCode = .osError) -> DaemonFailure {
        .core(Failure(errno: errno, path: path, message, otherwise: otherwise))
    }

    var status: Int32 {
        switch self {
        case .core(let failure): return failure.code.rawValue
        case .message(let status, _): return status
        }
    }

    func report() {
        switch self {
        case .core(let failure):
            failure.report()
        case .message(_, let text):
            FileDescriptor.standardError.writeAll(joined(Array("batamanta: ".utf8), text, [UInt8(ascii: "\n")]))
        }
    }
}

/// Runs a step of the dispensers' shared core, whose failures keep their own codes.
func core<Value>(_ step: () throws(Failure) -> Value) throws(DaemonFailure) -> Value {
    do throws(Failure) {
        return try step()
    } catch {
        throw .core(error)
    }
}

/// One line on stdout.
func say(_ parts: [UInt8]...) {
    FileDescriptor.standardOutput.writeAll(joined(parts + [[UInt8(ascii: "\n")]]))
}
