import CLibc

// The tui dispenser: unlike the cli one it cannot simply exec the VM, because someone
// has to put the terminal back when the VM dies without doing it. So it stays the parent
// (Supervisor.swift) with the terminal in raw mode (Terminal.swift). Without a terminal
// on stdin there is nothing to put back, and it runs exactly as the cli dispenser.
func dispense() throws(Failure) -> Int32 {
    let image = try SelfImage.open()
    if let status = try Maintenance.run(image) { return status }
    let launch = try prepareLaunch(image)
    guard let terminal = Terminal.save() else {
        FileDescriptor.standardError.writeAll(joined(
            Array("batamanta: ".utf8), launch.executable, Array(": warning: stdin is not a terminal; starting without raw mode\n".utf8)))
        try launch.exec()
    }
    return try Supervisor(launch: launch, terminal: terminal).run()
}

do throws(Failure) {
    exit(try dispense())
} catch {
    error.report()
    exit(error.code.rawValue)
}
