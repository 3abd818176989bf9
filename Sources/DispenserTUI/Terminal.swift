import CLibc

/// The state of the terminal on stdin before the app ran, kept so that every way the run
/// ends can put it back exactly: the termios the user had, and the file status flags of
/// the standard descriptors, because the VM makes them non-blocking and a VM that dies
/// without resetting them would leave the shell's `cat` failing with EAGAIN.
struct Terminal {
    private static let standardDescriptors: [Int32] = [0, 1, 2]

    private var saved: termios
    private var statusFlags: [Int32]

    /// nil when stdin is not a terminal.
    static func save() -> Terminal? {
        guard isatty(0) == 1 else { return nil }
        var attributes = termios()
        guard tcgetattr(0, &attributes) == 0 else { return nil }
        return Terminal(saved: attributes, statusFlags: standardDescriptors.map { bm_status_flags($0) })
    }

    /// cfmakeraw's input and local modes: bytes arrive one at a time, unechoed and
    /// untranslated, and Ctrl-C, Ctrl-Z and Ctrl-\ are keys the app reads instead of
    /// signals. Output processing stays as the user had it: OTP 25's -noshell writer
    /// sends bare "\n", which without ONLCR would not return the carriage.
    func enterRawMode() -> Result<Void, Errno> {
        var raw = saved
        cfmakeraw(&raw)
        raw.c_oflag = saved.c_oflag
        return nothingOrErrno { tcsetattr(0, TCSANOW, &raw) }
    }

    /// Best effort: after a hangup the terminal is gone and there is nothing to restore.
    func restore() {
        var attributes = saved
        _ = tcsetattr(0, TCSANOW, &attributes)
        for (descriptor, flags) in zip(Self.standardDescriptors, statusFlags) where flags >= 0 {
            _ = bm_set_status_flags(descriptor, flags)
        }
    }
}
