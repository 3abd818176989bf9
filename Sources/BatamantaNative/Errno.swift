import Glibc

/// A libc error number with its message, so system failures can be reported without
/// passing Int32s around.
struct Errno: Error, Equatable, CustomStringConvertible {
    var rawValue: Int32

    static var current: Errno { Errno(rawValue: errno) }

    var description: String {
        guard let text = strerror(rawValue) else { return "errno \(rawValue)" }
        return String(cString: text)
    }
}

/// Retries a system call interrupted by a signal; returns the result or the errno.
func retryingOnInterrupt<T: BinaryInteger>(_ call: () -> T) -> Result<T, Errno> {
    while true {
        let result = call()
        if result >= 0 { return .success(result) }
        let error = Errno.current
        if error.rawValue != EINTR { return .failure(error) }
    }
}
