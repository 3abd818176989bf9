/// The status word waitpid(2) reports, decoded without the libc macros so that the
/// dispensers (Embedded Swift, no Glibc module) and the helper share one reading of it.
/// The layout is the one Linux and the BSDs use: the low 7 bits hold the terminating
/// signal, 0 for a normal exit and 0x7f for a stop; the exit code is the next byte.
public enum WaitStatus: Equatable {
    case exited(code: Int32)
    case signaled(signal: Int32)
    /// Stopped or continued: the process still runs and has not ended.
    case running

    public init(_ raw: Int32) {
        let low = raw & 0x7f
        if low == 0 {
            self = .exited(code: (raw >> 8) & 0xff)
        } else if low != 0x7f, raw != 0xffff {
            self = .signaled(signal: low)
        } else {
            self = .running
        }
    }
}
