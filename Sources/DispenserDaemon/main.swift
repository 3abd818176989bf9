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
    if case .help = command {
        FileDescriptor.standardOutput.writeAll(Help.text(program: arguments.first ?? app, app: app))
        return .success(0)
    }
    if case .start(let appArguments, let timeout) = command {
        return Start.run(image, app: app, arguments: appArguments, timeout: timeout)
    }
    let state: StateDirectory
    switch StateDirectory.locate(app: app) {
    case .success(let located): state = located
    case .failure(let failure): return .failure(failure)
    }
    switch command {
    case .stop(let timeout): return Control.stop(state, timeout: timeout)
    case .status: return Control.status(state)
    case .pid: return Control.pid(state)
    case .logs(let follow): return Logs.run(state, follow: follow)
    default: return ReleaseCommands.run(command, image: image, state: state)
    }
}

switch dispatch() {
case .success(let status):
    exit(status)
case .failure(let failure):
    failure.report()
    exit(failure.status)
}
