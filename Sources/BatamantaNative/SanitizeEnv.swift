/// `:sanitize_env`: the environment for the `mix release` / `mix escript.build`
/// subprocess, so the build uses the chosen Erlang and not a version manager's.
enum SanitizeEnv {
    static func run(_ arguments: Arguments, _ context: RequestContext) throws(CommandError) -> Term {
        let environment = try arguments.pairs("env")
        let prepend = try arguments.paths("prepend_path", required: false).map(\.bytes)
        let result = EnvironmentSanitizer.sanitize(environment, prependingPath: prepend)
        return .record([
            "set": .list(result.set.map { .tuple([.binary($0.name), .binary($0.value)]) }),
            "unset": .list(result.unset.map { .binary($0) }),
        ])
    }
}

enum EnvironmentSanitizer {
    struct Result: Equatable {
        var set: [Variable]
        var unset: [[UInt8]]
    }

    struct Variable: Equatable {
        var name: [UInt8]
        var value: [UInt8]
    }

    static let unsetAlways = ["ERL_FLAGS", "ERL_AFLAGS", "ERL_ZFLAGS", "ERL_LIBS"].map { Array($0.utf8) }
    static let defaultPath = Array("/usr/local/bin:/usr/bin:/bin".utf8)

    /// Pure: the same input always gives the same `set` and `unset`.
    static func sanitize(_ environment: [(name: [UInt8], value: [UInt8])], prependingPath prepend: [[UInt8]]) -> Result {
        let lookup = { (name: String) -> [UInt8]? in
            environment.last { $0.name == Array(name.utf8) }.flatMap { $0.value.isEmpty ? nil : $0.value }
        }
        let rules = PathRules(lookup: lookup)
        let originalPath = lookup("PATH") ?? defaultPath
        var entries: [[UInt8]] = []
        for directory in prepend where !entries.contains(directory) {
            entries.append(directory)
        }
        for entry in originalPath.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: true).map(Array.init)
        where !entries.contains(entry) && !rules.isVersionManaged(entry) {
            entries.append(entry)
        }
        var path: [UInt8] = []
        for (index, entry) in entries.enumerated() {
            if index > 0 { path.append(UInt8(ascii: ":")) }
            path.append(contentsOf: entry)
        }

        var unset: [[UInt8]] = []
        for (name, _) in environment where shouldUnset(name) && !unset.contains(name) {
            unset.append(name)
        }
        return Result(
            set: [Variable(name: Array("MIX_ENV".utf8), value: Array("prod".utf8)), Variable(name: Array("PATH".utf8), value: path)],
            unset: unset)
    }

    /// ERL_* flags change how the build VM starts; ASDF_/MISE_/RTX_ version pins would
    /// make a shim pick another Erlang or Elixir than the one on the sanitized PATH.
    static func shouldUnset(_ name: [UInt8]) -> Bool {
        if unsetAlways.contains(name) { return true }
        let text = String(decoding: name, as: UTF8.self)
        guard text.hasPrefix("ASDF_") || text.hasPrefix("MISE_") || text.hasPrefix("RTX_") else { return false }
        return text.contains("ERLANG") || text.contains("ELIXIR")
    }

    /// Recognises PATH entries that belong to asdf, mise, rtx or kerl.
    struct PathRules {
        var managedRoots: [[UInt8]] = []
        var exactEntries: [[UInt8]] = []

        /// Directory sequences that mark a version manager wherever the data dir lives.
        static let markers = ["/.asdf/shims", "/.asdf/installs", "/mise/shims", "/mise/installs",
                              "/rtx/shims", "/rtx/installs", "/.kerl"].map { Array($0.utf8) }

        init(lookup: (String) -> [UInt8]?) {
            for variable in ["ASDF_DATA_DIR", "MISE_DATA_DIR", "RTX_DATA_DIR"] {
                guard let dataDirectory = lookup(variable).map(FilePath.trimmingTrailingSlashes) else { continue }
                managedRoots.append(dataDirectory + Array("/shims".utf8))
                managedRoots.append(dataDirectory + Array("/installs".utf8))
            }
            for variable in ["KERL_BASE_DIR", "KERL_DEFAULT_INSTALL_DIR", "_KERL_ACTIVE_DIR"] {
                if let directory = lookup(variable) { managedRoots.append(FilePath.trimmingTrailingSlashes(directory)) }
            }
            if let removable = lookup("_KERL_PATH_REMOVABLE") { exactEntries.append(FilePath.trimmingTrailingSlashes(removable)) }
        }

        func isVersionManaged(_ entry: [UInt8]) -> Bool {
            let directory = FilePath.trimmingTrailingSlashes(entry)
            let withSlash = directory + [UInt8(ascii: "/")]
            if PathRules.markers.contains(where: { withSlash.contains($0 + [UInt8(ascii: "/")]) }) {
                return true
            }
            if exactEntries.contains(directory) { return true }
            return managedRoots.contains { root in
                !root.isEmpty && withSlash.starts(with: root + [UInt8(ascii: "/")])
            }
        }
    }
}
