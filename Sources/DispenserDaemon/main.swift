import CLibc

// The daemon dispenser: a small service manager for the app. Only `start`, `foreground`,
// `restart`, `remote`, `rpc` and `eval` extract the payload; `stop`, `status`, `pid` and
// `logs` read just the metadata and the state directory, unless the release has an
// env.sh, which must run to tell which node they are about.
func dispatch() throws(DaemonFailure) -> Int32 {
    let arguments = Environment.arguments
    let image = try core { () throws(Failure) in try SelfImage.open() }
    if let status = try core({ () throws(Failure) in try Maintenance.run(image) }) { return status }
    let command = try Command.parse(Array(arguments.dropFirst()))
    guard let app = image.metadata.first(bytes("app")), isSafeName(app) else {
        throw .core(Failure(.corruptPayload, path: image.executablePath, "corrupt metadata: missing or unusable app"))
    }
    // Every command but help and version needs the node and its state directory; those
    // two must work without them.
    let node = { () throws(DaemonFailure) in try Node.resolve(image) }
    let state = { (node: Node) throws(DaemonFailure) in try StateDirectory.locate(node) }
    switch command {
    case .help:
        FileDescriptor.standardOutput.writeAll(Help.text(program: arguments.first ?? app, app: app))
        return 0
    case .version:
        say(image.metadata.first(bytes("release")) ?? app, Array(" ".utf8), image.metadata.first(bytes("version")) ?? [])
        return 0
    default:
        break
    }
    let resolved = try node()
    let directory = try state(resolved)
    switch command {
    case .help, .version: return 0
    case .start(let appArguments, let timeout):
        return try Start.run(image, node: resolved, state: directory, arguments: appArguments, timeout: timeout)
    case .foreground(let appArguments): try Start.foreground(image, node: resolved, state: directory, arguments: appArguments)
    case .restart(let appArguments, let stopTimeout, let startTimeout):
        if try PidFile.running(directory) != nil { _ = try Control.stop(directory, timeout: stopTimeout) }
        return try Start.run(image, node: resolved, state: directory, arguments: appArguments, timeout: startTimeout)
    case .stop(let timeout): return try Control.stop(directory, timeout: timeout)
    case .status: return try Control.status(directory)
    case .pid: return try Control.pid(directory)
    case .logs(let follow): return try Logs.run(directory, follow: follow)
    case .remote: try ReleaseCommands.run([Array("remote".utf8)], image: image, node: resolved, state: directory)
    case .rpc(let expression): try ReleaseCommands.run([Array("rpc".utf8), expression], image: image, node: resolved, state: directory)
    case .eval(let expression): try ReleaseCommands.run([Array("eval".utf8), expression], image: image, node: resolved, state: directory)
    }
}

do throws(DaemonFailure) {
    exit(try dispatch())
} catch {
    error.report()
    exit(error.status)
}
