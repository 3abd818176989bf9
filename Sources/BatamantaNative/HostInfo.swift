import Glibc

/// `:host_info`: os, arch and libc of the machine (or of a fake root, for tests).
enum HostInfo {
    static func run(_ arguments: Arguments, _ context: RequestContext) throws(CommandError) -> Term {
        let root = try arguments.optionalPath("root") ?? FilePath("/")
        let platform = Platform.current
        let libc = LibcDetector(root: root).detect()
        return .record([
            "os": .string(platform.os),
            "arch": .string(platform.arch),
            "libc": .string(libc.family.rawValue),
            "libc_version": .string(libc.version),
            "libc_source": .string(libc.source.rawValue),
            "note": .string(libc.note),
        ])
    }
}

/// The running kernel and CPU, named the way targets are named.
struct Platform {
    var os: String
    var arch: String

    static var current: Platform {
        var names = utsname()
        uname(&names)
        let system = withUnsafeBytes(of: &names.sysname) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let machine = withUnsafeBytes(of: &names.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return Platform(os: normalizedOS(system), arch: normalizedArch(machine))
    }

    static func normalizedOS(_ system: String) -> String {
        switch system {
        case "Linux": return "linux"
        case "Darwin": return "macos"
        default: return system.lowercased()
        }
    }

    static func normalizedArch(_ machine: String) -> String {
        switch machine {
        case "x86_64", "amd64": return "x86_64"
        case "aarch64", "arm64", "aarch64_be", "armv8l": return "aarch64"
        default: return machine
        }
    }
}
