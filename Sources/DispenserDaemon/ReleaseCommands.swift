import CLibc

/// `remote`, `rpc EXPR` and `eval EXPR` run the release's own `bin/<release>` script from
/// the extraction, so they behave exactly as they do in a `mix release`. The script finds
/// the node through RELEASE_NODE and RELEASE_COOKIE, which are set here from the launch
/// spec and the state directory, and writes its temporary files there too.
enum ReleaseCommands {
    static func run(_ command: Command, image: SelfImage, state: StateDirectory) -> Result<Int32, DaemonFailure> {
        guard image.metadata.first(bytes("format")) == Array("release".utf8) else {
            return .failure(.refused(Array("remote, rpc and eval need a binary built with format: :release".utf8)))
        }
        var scriptArguments: [[UInt8]]
        switch command {
        case .remote: scriptArguments = [Array("remote".utf8)]
        case .rpc(let expression): scriptArguments = [Array("rpc".utf8), expression]
        case .eval(let expression): scriptArguments = [Array("eval".utf8), expression]
        default: return .failure(.usage(Array("not a release command".utf8)))
        }
        if case .eval = command {} else {
            switch PidFile.running(state) {
            case .failure(let failure): return .failure(failure)
            case .success(nil): return .failure(.refused(state.app, Array(" is not running".utf8)))
            case .success: break
            }
        }
        let cookie: [UInt8]
        switch state.cookie() {
        case .success(let found): cookie = found
        case .failure(let failure): return .failure(failure)
        }
        let launch: Launch
        switch prepareLaunch() {
        case .success(let prepared): launch = prepared
        case .failure(let failure): return .failure(.core(failure))
        }
        if case .failure(let errno) = state.descriptor.makeDirectory(StateDirectory.temporaryName, mode: 0o700), errno != Errno(EEXIST) {
            return .failure(.system(errno, path: state.pathOf(StateDirectory.temporaryName), "cannot create directory"))
        }

        let records = image.metadata.all(bytes("env"))
        func recorded(_ name: StaticString) -> [UInt8]? {
            let prefix = joined(bytes(name), [UInt8(ascii: "=")])
            return records.first { $0.starts(with: prefix) }.map { Array($0.dropFirst(prefix.count)) }
        }
        guard let release = recorded("RELEASE_NAME"), isSafeName(release) else {
            return .failure(.core(Failure(.corruptPayload, path: image.executablePath, "corrupt metadata: no usable RELEASE_NAME")))
        }
        var settings: [([UInt8], [UInt8])] = [
            (Array("RELEASE_COOKIE".utf8), cookie),
            (Array("RELEASE_TMP".utf8), state.pathOf(StateDirectory.temporaryName)),
        ]
        for name in ["RELEASE_NODE", "RELEASE_DISTRIBUTION"] as [StaticString] {
            if let value = recorded(name) { settings.append((bytes(name), value)) }
        }
        for (name, value) in settings {
            _ = withCPath(name) { name in withCPath(value) { setenv(name, $0, 1) } }
        }
        let shell: [UInt8] = Array("/bin/sh".utf8)
        let script = joined(launch.root, Array("/bin/".utf8), release)
        let errno = execute(shell, [shell, script] + scriptArguments)
        return .failure(.system(errno, path: shell, "cannot execute"))
    }

    /// execv with the current environment; returns the errno when it fails.
    private static func execute(_ path: [UInt8], _ arguments: [[UInt8]]) -> Errno {
        var pointers: [UnsafeMutablePointer<CChar>?] = arguments.map { argument in
            let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: argument.count + 1)
            for (index, byte) in argument.enumerated() { pointer[index] = CChar(bitPattern: byte) }
            pointer[argument.count] = 0
            return pointer
        }
        pointers.append(nil)
        _ = withCPath(path) { path in pointers.withUnsafeBufferPointer { execv(path, $0.baseAddress!) } }
        let failure = Errno.current
        for pointer in pointers { pointer?.deallocate() }
        return failure
    }
}
