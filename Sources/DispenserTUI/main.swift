import CLibc

// The tui dispenser: unlike the cli one it cannot simply exec the VM, because someone
// has to put the terminal back when the VM dies without doing it. So it stays the parent
// (Supervisor.swift) with the terminal in raw mode (Terminal.swift). Without a terminal
// on stdin there is nothing to put back, and it runs exactly as the cli dispenser.
func dispense() -> Result<Int32, Failure> {
    let launch: Launch
    switch SelfImage.open().flatMap(prepareLaunch) {
    case .success(let prepared): launch = prepared
    case .failure(let failure): return .failure(failure)
    }
    guard let terminal = Terminal.save() else {
        FileDescriptor.standardError.writeAll(joined(
            Array("batamanta: ".utf8), launch.executable, Array(": warning: stdin is not a terminal; starting without raw mode\n".utf8)))
        return .failure(launch.exec())
    }
    return Supervisor(launch: launch, terminal: terminal).run()
}

switch dispense() {
case .success(let status):
    exit(status)
case .failure(let failure):
    failure.report()
    exit(failure.code.rawValue)
}
