/// How the dispenser ends when it cannot exec the application. Codes follow BSD
/// sysexits(3) so scripts can tell a broken download from a full disk:
///
/// | code | name | meaning |
/// |---|---|---|
/// | 64 | EX_USAGE | `BATAMANTA_MAINTENANCE` set to something other than `info`, `path` or `uninstall` |
/// | 65 | EX_DATAERR | corrupted or truncated payload: content hash, zstd frame, tar stream or an unsafe tar entry |
/// | 66 | EX_NOINPUT | no payload: the file has no batamanta trailer (stripped, truncated, or not a batamanta binary) |
/// | 69 | EX_UNAVAILABLE | this host cannot run the embedded runtime: preflight found an unfit libc, or no library a NIF of the payload loads (`needs`) |
/// | 71 | EX_OSERR | exec or another operating-system error |
/// | 73 | EX_CANTCREAT | no usable cache directory: cannot be created, owned by another user, group/world-writable, or inside a directory another user owns or can write to that is not sticky |
/// | 74 | EX_IOERR | disk full (ENOSPC) or another I/O error |
/// | 77 | EX_NOPERM | permission denied or read-only file system (EACCES, EPERM, EROFS) |
///
/// Every failure prints exactly one line to stderr, starting with `batamanta: ` and
/// naming the path involved. Once the application is exec'd, its own status is returned.
enum ExitCode: Int32 {
    case usage = 64
    case corruptPayload = 65
    case noPayload = 66
    case hostUnsupported = 69
    case osError = 71
    case noCacheDirectory = 73
    case ioError = 74
    case permissionDenied = 77
}
