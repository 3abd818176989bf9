import CLibc

/// waitpid(2), retried when a signal interrupts it: the child's raw status, or nil when
/// `options` holds WNOHANG and the child has not changed state.
func waitForChild(_ pid: pid_t, options: Int32 = 0) -> Result<Int32?, Errno> {
    var status: Int32 = 0
    while true {
        let result = waitpid(pid, &status, options)
        if result > 0 { return .success(status) }
        if result == 0 { return .success(nil) }
        if Errno.current != Errno(EINTR) { return .failure(.current) }
    }
}
