import Testing
@testable import BatamantaNative

@Suite struct SanitizeEnvTests {
    func sanitize(_ environment: [(String, String)], prepend: [String] = []) -> (set: [String: String], unset: [String]) {
        let result = EnvironmentSanitizer.sanitize(
            environment.map { (name: Array($0.0.utf8), value: Array($0.1.utf8)) }, prependingPath: prepend.map { Array($0.utf8) })
        var set: [String: String] = [:]
        for variable in result.set {
            set[String(decoding: variable.name, as: UTF8.self)] = String(decoding: variable.value, as: UTF8.self)
        }
        return (set, result.unset.map { String(decoding: $0, as: UTF8.self) })
    }

    @Test func removesVersionManagersFromPath() {
        let path = [
            "/home/u/.asdf/shims", "/usr/local/bin", "/home/u/.asdf/installs/erlang/26.2/bin",
            "/home/u/.local/share/mise/shims", "/home/u/.local/share/mise/installs/elixir/1.16/bin",
            "/home/u/.local/share/rtx/installs/erlang/25/bin", "/home/u/.kerl/builds/26/bin", "/home/u/.kerl",
            "/opt/kerl/26.2/bin", "/custom/asdf/shims/", "/usr/bin", "", "/bin", "/home/u/.asdf/bin",
        ].joined(separator: ":")
        let result = sanitize([
            ("HOME", "/home/u"), ("PATH", path), ("KERL_DEFAULT_INSTALL_DIR", "/opt/kerl"),
            ("ASDF_DATA_DIR", "/custom/asdf"),
        ], prepend: ["/cache/otp/bin", "/usr/bin"])
        #expect(result.set["MIX_ENV"] == "prod")
        #expect(result.set["PATH"] == "/cache/otp/bin:/usr/bin:/usr/local/bin:/bin:/home/u/.asdf/bin")
        #expect(result.unset.isEmpty)
    }

    @Test func unsetsErlangFlagsAndVersionPins() {
        let result = sanitize([
            ("ERL_AFLAGS", "-kernel shell_history enabled"), ("ERL_FLAGS", "+S 1"), ("ERL_ZFLAGS", "x"), ("ERL_LIBS", "/x"),
            ("ASDF_ERLANG_VERSION", "26.2"), ("ASDF_ELIXIR_VERSION", "1.16"), ("MISE_ERLANG_VERSION", "26"),
            ("RTX_ELIXIR_VERSION", "1.15"), ("ASDF_DIR", "/home/u/.asdf"), ("MIX_ENV", "dev"), ("ERL_CRASH_DUMP", "/tmp/d"),
            ("PATH", "/usr/bin"),
        ])
        #expect(result.unset == [
            "ERL_AFLAGS", "ERL_FLAGS", "ERL_ZFLAGS", "ERL_LIBS", "ASDF_ERLANG_VERSION", "ASDF_ELIXIR_VERSION",
            "MISE_ERLANG_VERSION", "RTX_ELIXIR_VERSION",
        ])
        #expect(result.set == ["MIX_ENV": "prod", "PATH": "/usr/bin"])
    }

    @Test func kerlActivationIsUndone() {
        let result = sanitize([
            ("PATH", "/srv/otp/26/bin:/usr/bin"), ("_KERL_PATH_REMOVABLE", "/srv/otp/26/bin"), ("_KERL_ACTIVE_DIR", "/srv/otp/26"),
        ])
        #expect(result.set["PATH"] == "/usr/bin")
    }

    @Test func missingPathFallsBackToTheSystemDefault() {
        #expect(sanitize([], prepend: ["/otp/bin"]).set["PATH"] == "/otp/bin:/usr/local/bin:/usr/bin:/bin")
    }

    @Test func isPureAndReachableThroughTheCommand() throws {
        let arguments = Arguments(.record([
            "env": .list([.tuple([.string("PATH"), .string("/home/u/.asdf/shims:/bin")]), .tuple([.string("ERL_LIBS"), .string("x")])]),
            "prepend_path": .list([.string("/otp/bin")]),
        ]), command: "sanitize_env")
        let first = try SanitizeEnv.run(arguments, .ignored)
        #expect(first == (try SanitizeEnv.run(arguments, .ignored)))
        #expect(first == .record([
            "set": .list([.tuple([.string("MIX_ENV"), .string("prod")]), .tuple([.string("PATH"), .string("/otp/bin:/bin")])]),
            "unset": .list([.string("ERL_LIBS")]),
        ]))
        let bad = Arguments(.record(["env": .list([.string("PATH=/bin")])]), command: "sanitize_env")
        #expect { try SanitizeEnv.run(bad, .ignored) } throws: { ($0 as? CommandError)?.code == .invalidArgument }
    }
}
