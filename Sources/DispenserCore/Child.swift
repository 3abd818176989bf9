import CLibc

/// waitpid(2): how the child ended or, when `options` holds WNOHANG, nil while it has not
/// changed state.
func waitForChild(_ pid: pid_t, options: Int32 = 0) -> Result<WaitStatus?, Errno> {
    var status: Int32 = 0
    return valueOrErrno { waitpid(pid, &status, options) }.map { $0 == 0 ? nil : WaitStatus(status) }
}
