import CLibc

/// Which Erlang node the daemon is, decided as `bin/<release>` decides it: the launch
/// spec's defaults (`sname`, the release's name), then RELEASE_NODE, RELEASE_DISTRIBUTION
/// and RELEASE_COOKIE from the environment, then the release's `env.sh`, which may set
/// them again. The node names the daemon's files, so two instances never share them.
struct Node {
    var release: [UInt8]
    var name: [UInt8]
    /// `sname`, `name` or `none`.
    var distribution: [UInt8]
    /// RELEASE_COOKIE when it was given; otherwise the state directory's per-user cookie.
    var cookie: [UInt8]?

    /// `-sname NODE`, `-name NODE`, or nothing for `none`.
    var vmArguments: [[UInt8]] {
        distribution == Array("none".utf8) ? [] : [joined([UInt8(ascii: "-")], distribution), name]
    }

    /// What the VM and the release's scripts read to find this node.
    var environment: [[UInt8]] {
        [joined(Array("RELEASE_NODE=".utf8), name), joined(Array("RELEASE_DISTRIBUTION=".utf8), distribution)]
    }

    /// The variables a VM of this node (the daemon, or the release script's for `rpc`)
    /// needs: node, distribution, cookie, and HOME when ours is unusable.
    func environment(_ state: StateDirectory) throws(DaemonFailure) -> [[UInt8]] {
        var cookie = self.cookie ?? []
        if self.cookie == nil { cookie = try state.cookie() }
        return environment + [joined(Array("RELEASE_COOKIE=".utf8), cookie)] + state.homeOverride
    }

    static func resolve(_ image: SelfImage) throws(DaemonFailure) -> Node {
        let metadata = image.metadata
        guard let release = metadata.first(bytes("release")) ?? metadata.first(bytes("app")), isSafeName(release) else {
            throw .core(Failure(.corruptPayload, path: image.executablePath, "corrupt metadata: missing or unusable release"))
        }
        let defaults = metadata.all(bytes("env_default"))
        var node = Node(
            release: release,
            name: Environment.nonEmpty("RELEASE_NODE") ?? variable("RELEASE_NODE", in: defaults) ?? release,
            distribution: Environment.nonEmpty("RELEASE_DISTRIBUTION") ?? variable("RELEASE_DISTRIBUTION", in: defaults) ?? Array("sname".utf8),
            cookie: Environment.value("RELEASE_COOKIE"))
        if metadata.first(bytes("env_script")) != nil {
            let launch = try core { () throws(Failure) in try prepareLaunch(image) }
            defer { launch.extraction.close() }
            try node.applyEnvScript(launch)
        }
        try node.validate()
        return node
    }

    /// Sources env.sh in a shell with the app's environment and reads back what it left.
    private mutating func applyEnvScript(_ launch: Launch) throws(DaemonFailure) {
        let script = launch.resolve(launch.metadata.first(bytes("env_script")) ?? [])
        let report = bytes(#". "$0" >&2 || exit 1; printf '%s\n%s\n%s%s' "$RELEASE_NODE" "$RELEASE_DISTRIBUTION" "${RELEASE_COOKIE+=}" "${RELEASE_COOKIE-}""#)
        var overrides = environment
        if let cookie { overrides.append(joined(Array("RELEASE_COOKIE=".utf8), cookie)) }
        let shell: [UInt8] = Array("/bin/sh".utf8)
        let output = try captureOutput(shell, [shell, Array("-c".utf8), report, script], launch.environment(overrides: overrides))
        let lines = output.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
        guard lines.count == 3 else { throw .refused(script, Array(" failed; its messages are above".utf8)) }
        if !lines[0].isEmpty { name = Array(lines[0]) }
        if !lines[1].isEmpty { distribution = Array(lines[1]) }
        cookie = lines[2].first == UInt8(ascii: "=") ? Array(lines[2].dropFirst()) : nil
    }

    private func validate() throws(DaemonFailure) {
        guard [Array("sname".utf8), Array("name".utf8), Array("none".utf8)].contains(distribution) else {
            throw .refused(Array("RELEASE_DISTRIBUTION must be sname, name or none, got '".utf8), distribution, Array("'".utf8))
        }
        guard isSafeName(name), name.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            throw .refused(Array("RELEASE_NODE must be a node name such as 'app' or 'app@host', got '".utf8), name, Array("'".utf8))
        }
        if let cookie, cookie.isEmpty || cookie.count > 255 {
            throw .refused(Array("RELEASE_COOKIE must be 1 to 255 bytes".utf8))
        }
    }
}

/// Runs `program` and returns its standard output; its standard error stays ours.
private func captureOutput(_ program: [UInt8], _ arguments: [[UInt8]], _ environment: [[UInt8]]) throws(DaemonFailure) -> [UInt8] {
    let (reader, writer) = try ProcessInfo.pipe()
    let child = fork()
    if child == 0 {
        _ = dup2(writer.rawValue, 1)
        _ = execute(program, arguments, environment)
        _exit(127)
    }
    writer.close()
    defer { reader.close() }
    if child < 0 { throw .system(Errno.current, path: program, "cannot fork") }
    // A pipe cannot be read at an offset, so not readAll.
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while output.count < 1 << 16, case .success(let count) = buffer.withUnsafeMutableBytes({ reader.read(into: $0) }), count > 0 {
        output.append(contentsOf: buffer[0..<count])
    }
    guard case .success(let ended?) = waitForChild(child), ended == .exited(code: 0) else {
        throw .refused(arguments.last ?? program, Array(" failed; its messages are above".utf8))
    }
    return output
}
