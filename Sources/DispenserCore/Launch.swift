import CLibc

/// Builds the application's argv and environment from the metadata (docs/FORMAT.md) and
/// execs it, so signals, the terminal, stdio and the exit status belong to the VM.
struct Launch {
    var metadata: Metadata
    var root: [UInt8]
    /// The extraction's directory, holding LOCK_SH; inherited across exec so the VM holds it.
    var extraction: FileDescriptor
    var executable: [UInt8]
    var cache: CacheDirectory

    /// Returns only by throwing. `userArguments` follow the metadata's; by default the
    /// dispenser's own, which the daemon replaces because its first one is a command.
    /// `overrides` (`NAME=VALUE`) stand in for variables of the dispenser's environment,
    /// so the metadata's `env` records still take precedence over them. `vmArguments`
    /// (the daemon's node name) go right after the program, before the metadata's.
    func exec(userArguments: [[UInt8]] = Array(Environment.arguments.dropFirst()), vmArguments: [[UInt8]] = [], environment overrides: [[UInt8]] = []) throws(Failure) -> Never {
        var config: [UInt8] = []
        if let runtimeConfig = metadata.first(bytes("runtime_config")) {
            config = try copyRuntimeConfig(runtimeConfig)
        }
        let program = resolve(expand(metadata.first(bytes("exec")) ?? [], config: config))
        var arguments: [[UInt8]] = [program] + vmArguments
        if isatty(1) == 1, isatty(2) == 1, Environment.value("NO_COLOR") == nil {
            arguments.append(contentsOf: metadata.all(bytes("tty_arg")).map { expand($0, config: config) })
        }
        arguments.append(contentsOf: metadata.all(bytes("arg")).map { expand($0, config: config) })
        arguments.append(contentsOf: userArguments)

        var path = program
        if let script = metadata.first(bytes("env_script")) {
            path = Array("/bin/sh".utf8)
            arguments = [path, Array("-c".utf8), Array(". \"$0\"; exec \"$@\"".utf8), resolve(expand(script, config: config))] + arguments
        }
        let environment = self.environment(config: config, overrides: overrides)
        throw Failure(errno: execute(path, arguments, environment), path: path, "cannot execute")
    }

    /// The application's environment: ours with `overrides`, then the metadata's records.
    func environment(config: [UInt8] = [], overrides: [[UInt8]]) -> [[UInt8]] {
        var environment = Environment.variables(overriding: overrides)
        for entry in metadata.all(bytes("env_default")) {
            let name = variableName(entry)
            if !environment.contains(where: { variableName($0) == name }) { environment.append(expand(entry, config: config)) }
        }
        for entry in metadata.all(bytes("env")) { set(&environment, expand(entry, config: config)) }
        set(&environment, joined(Array("BATAMANTA_BIN=".utf8), executable))
        set(&environment, joined(Array("BATAMANTA_ROOT=".utf8), root))
        let namesUTF8 = (["LC_ALL", "LC_CTYPE", "LANG"] as [StaticString]).contains { name in
            let name = bytes(name)
            return environment.contains { variableName($0).elementsEqual(name) && isUTF8Locale(Array($0.dropFirst(name.count + 1))) }
        }
        if !namesUTF8 { set(&environment, Array("LANG=C.UTF-8".utf8)) }
        return environment
    }

    /// The release script copies sys.config before each boot because the config provider
    /// rewrites it; a private per-run copy keeps concurrent runs and read-only trees apart.
    private func copyRuntimeConfig(_ relative: [UInt8]) throws(Failure) -> [UInt8] {
        let source = joined(resolve(relative), Array(".config".utf8))
        var directory: [UInt8]
        if let releaseTemporary = Environment.nonEmpty("RELEASE_TMP") {
            directory = releaseTemporary
        } else {
            directory = joined(cache.path, Array("/tmp".utf8))
            if case .failure(let errno) = cache.descriptor.makeDirectory(Array("tmp".utf8), mode: 0o700), errno != Errno(EEXIST) {
                throw Failure(errno: errno, path: directory, "cannot create directory")
            }
        }
        let base = joined(directory, [slash], metadata.first(bytes("app")) ?? [], [UInt8(ascii: "-")], randomSuffix())
        let destination = joined(base, Array(".config".utf8))
        let input = try FileDescriptor.currentDirectory.open(source, O_RDONLY).orThrow {
            Failure(errno: $0, path: source, "cannot open runtime config", otherwise: .ioError)
        }
        defer { input.close() }
        let output = try FileDescriptor.currentDirectory.open(destination, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600).orThrow {
            Failure(errno: $0, path: destination, "cannot create runtime config", otherwise: .ioError)
        }
        defer { output.close() }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var offset: UInt64 = 0
        while true {
            let count = try buffer.withUnsafeMutableBytes { input.read(fromAbsoluteOffset: offset, into: $0) }.orThrow {
                Failure(errno: $0, path: source, "cannot read", otherwise: .ioError)
            }
            if count == 0 { return base }
            offset += UInt64(count)
            try buffer.withUnsafeBytes { output.writeAll(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }.orThrow {
                Failure(errno: $0, path: destination, "cannot write", otherwise: .ioError)
            }
        }
    }

    /// Paths in the metadata are relative to the extraction root.
    func resolve(_ path: [UInt8]) -> [UInt8] {
        path.first == slash ? path : joined(root, [slash], path)
    }

    /// Replaces `${ROOT}` and `${CONFIG}` (empty without `runtime_config`, which is the
    /// only thing that names a config); anything else is kept byte for byte.
    private func expand(_ text: [UInt8], config: [UInt8]) -> [UInt8] {
        let rootToken: [UInt8] = Array("${ROOT}".utf8)
        let configToken: [UInt8] = Array("${CONFIG}".utf8)
        var result: [UInt8] = []
        var index = 0
        while index < text.count {
            if text[index...].starts(with: rootToken) {
                result.append(contentsOf: root)
                index += rootToken.count
            } else if text[index...].starts(with: configToken) {
                result.append(contentsOf: config)
                index += configToken.count
            } else {
                result.append(text[index])
                index += 1
            }
        }
        return result
    }
}

/// `en_US.UTF-8`, `C.utf8` and the like, compared without locale-aware case folding.
private func isUTF8Locale(_ value: [UInt8]) -> Bool {
    let lowered = value.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }
    for needle in ["utf-8", "utf8"] as [StaticString] {
        let pattern = bytes(needle)
        if lowered.count >= pattern.count, (0...(lowered.count - pattern.count)).contains(where: { lowered[$0...].starts(with: pattern) }) {
            return true
        }
    }
    return false
}

/// execve with NUL-terminated copies; returns the errno when it fails.
func execute(_ path: [UInt8], _ arguments: [[UInt8]], _ environment: [[UInt8]]) -> Errno {
    func terminatedPointers(_ strings: [[UInt8]]) -> [UnsafeMutablePointer<CChar>?] {
        strings.map { string in
            let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: string.count + 1)
            string.withUnsafeBytes { raw in
                UnsafeMutableRawPointer(pointer).copyMemory(from: raw.baseAddress ?? UnsafeRawPointer(pointer), byteCount: raw.count)
            }
            pointer[string.count] = 0
            return pointer
        } + [nil]
    }
    let argv = terminatedPointers(arguments)
    let envp = terminatedPointers(environment)
    _ = withCPath(path) { execve($0, argv, envp) }
    let failure = Errno.current
    for pointer in argv + envp { pointer?.deallocate() }
    return failure
}
