import CLibc

// The cli dispenser: exec the application in place, so signals, the TTY, stdin/stdout
// and the exit status pass straight through. It returns only when it cannot.
do throws(Failure) {
    let image = try SelfImage.open()
    if let status = try Maintenance.run(image) { exit(status) }
    try prepareLaunch(image).exec()
} catch {
    error.report()
    exit(error.code.rawValue)
}
