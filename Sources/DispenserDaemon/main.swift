import CLibc

// The daemon dispenser: a small service manager for the app. Only `start`, `remote`,
// `rpc` and `eval` extract the payload; `stop`, `status`, `pid` and `logs` read just the
// metadata and the state directory.
func dispatch() throws(DaemonFailure) -> Int32 {
    let arguments = Environment.arguments
    let command = try Command.parse(Array(arguments.dropFirst()))
    let image = try core { () throws(Failure) in try SelfImage.open() }
    guard let app = image.metadata.first(bytes("app")), isSafeName(app) else {
        throw .core(Failure(.corruptPayload, path: image.executablePath, "corrupt metadata: missing or unusable app"))
    }
    // Every command but help needs the state directory; help must work without one.
    let state = { () throws(DaemonFailure) in try StateDirectory.locate(app: app) }
    switch command {
    case .help:
        FileDescriptor.standardOutput.writeAll(Help.text(program: arguments.first ?? app, app: app))
        return 0
    case .start(let appArguments, let timeout): return try Start.run(image, state: state(), arguments: appArguments, timeout: timeout)
    case .stop(let timeout): return try Control.stop(state(), timeout: timeout)
    case .status: return try Control.status(state())
    case .pid: return try Control.pid(state())
    case .logs(let follow): return try Logs.run(state(), follow: follow)
    case .remote: try ReleaseCommands.run([Array("remote".utf8)], image: image, state: state())
    case .rpc(let expression): try ReleaseCommands.run([Array("rpc".utf8), expression], image: image, state: state())
    case .eval(let expression): try ReleaseCommands.run([Array("eval".utf8), expression], image: image, state: state())
    }
}

do throws(DaemonFailure) {
    exit(try dispatch())
} catch {
    error.report()
    exit(error.status)
}
