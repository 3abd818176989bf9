import CLibc

// The daemon dispenser: a small service manager for the app. Only `start`, `remote`,
// `rpc` and `eval` extract the payload; `stop`, `status`, `pid` and `logs` read just the
// metadata and the state directory.
func dispatch() -> Result<Int32, DaemonFailure> {
    let arguments = Environment.arguments
    let command: Command
    switch Command.parse(Array(arguments.dropFirst())) {
    case .success(let parsed): command = parsed
    case .failure(let failure): return .failure(failure)
    }
    let image: SelfImage
    switch SelfImage.open() {
    case .success(let opened): image = opened
    case .failure(let failure): return .failure(.core(failure))
    }
    guard let app = image.metadata.first(bytes("app")), isSafeName(app) else {
        return .failure(.core(Failure(.corruptPayload, path: image.executablePath, "corrupt metadata: missing or unusable app")))
    }
    // Every command but help needs the state directory; help must work without one.
    let state = { StateDirectory.locate(app: app) }
    switch command {
    case .help:
        FileDescriptor.standardOutput.writeAll(Help.text(program: arguments.first ?? app, app: app))
        return .success(0)
    case .start(let appArguments, let timeout):
        return state().flatMap { Start.run(image, state: $0, arguments: appArguments, timeout: timeout) }
    case .stop(let timeout): return state().flatMap { Control.stop($0, timeout: timeout) }
    case .status: return state().flatMap(Control.status)
    case .pid: return state().flatMap(Control.pid)
    case .logs(let follow): return state().flatMap { Logs.run($0, follow: follow) }
    case .remote: return state().flatMap { ReleaseCommands.run([Array("remote".utf8)], image: image, state: $0) }
    case .rpc(let expression): return state().flatMap { ReleaseCommands.run([Array("rpc".utf8), expression], image: image, state: $0) }
    case .eval(let expression): return state().flatMap { ReleaseCommands.run([Array("eval".utf8), expression], image: image, state: $0) }
    }
}

switch dispatch() {
case .success(let status):
    exit(status)
case .failure(let failure):
    failure.report()
    exit(failure.status)
}
