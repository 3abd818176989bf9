import CLibc

/// `remote`, `rpc EXPR` and `eval EXPR` run the release's own `bin/<release>` script from
/// the extraction, so they behave exactly as they do in a `mix release`. The script finds
/// the node through RELEASE_NODE, RELEASE_DISTRIBUTION and RELEASE_COOKIE, which are set
/// here as `Node` resolved them, and writes its temporary files in the state directory.
enum ReleaseCommands {
    /// `scriptArguments` are the script's own: `remote`, `rpc EXPR` or `eval EXPR`.
    static func run(_ scriptArguments: [[UInt8]], image: SelfImage, node: Node, state: StateDirectory) throws(DaemonFailure) -> Never {
        guard image.metadata.first(bytes("format")) == Array("release".utf8) else {
            throw .refused(Array("remote, rpc and eval need a binary built with format: :release".utf8))
        }
        // eval starts a VM of its own; remote and rpc need the running node.
        if scriptArguments.first != Array("eval".utf8), try PidFile.running(state) == nil {
            throw .refused(state.app, Array(" is not running".utf8))
        }
        let environment = try node.environment(state)
        let launch = try core { () throws(Failure) in try prepareLaunch(image) }
        if case .failure(let errno) = state.descriptor.makeDirectory(StateDirectory.temporaryName, mode: 0o700), errno != Errno(EEXIST) {
            throw .system(errno, path: state.pathOf(StateDirectory.temporaryName), "cannot create directory")
        }

        // Only what finds the node: the script sets up the rest of a release's environment itself.
        let overrides = environment + [joined(Array("RELEASE_TMP=".utf8), state.pathOf(StateDirectory.temporaryName))]
        let shell: [UInt8] = Array("/bin/sh".utf8)
        let script = joined(launch.root, Array("/bin/".utf8), node.release)
        let errno = execute(shell, [shell, script] + scriptArguments, Environment.variables(overriding: overrides))
        throw .system(errno, path: shell, "cannot execute")
    }
}
