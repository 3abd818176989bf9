import CLibc

// The cli dispenser: exec the application in place, so signals, the TTY, stdin/stdout
// and the exit status pass straight through. It returns only when it cannot.
do throws(Failure) {
    try prepareLaunch(SelfImage.open()).exec()
} catch {
    error.report()
    exit(error.code.rawValue)
}
