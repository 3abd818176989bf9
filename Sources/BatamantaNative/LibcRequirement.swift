/// `:libc_requirement`: which C library, and which glibc version at least, a set of ELF
/// files (an ERTS's executables and NIFs) needs on the machine that runs them, and the
/// shared libraries each one loads.
enum LibcRequirement {
    static func run(_ arguments: Arguments, _ context: RequestContext) throws(CommandError) -> Term {
        let findings = try examine(try arguments.paths("paths"))
        return .record([
            "libc": .string(findings.requirement.libc),
            "version": .string(findings.requirement.version),
            "needed": .map(findings.needed.map {
                Term.MapEntry(key: .binary($0.path.bytes), value: .list($0.libraries.map(Term.binary)))
            }),
        ])
    }

    struct Requirement: Equatable {
        var libc: String
        var version: String?
    }

    struct Findings {
        var requirement: Requirement
        /// The DT_NEEDED names of every ELF file among the paths, in the order given.
        var needed: [(path: FilePath, libraries: [[UInt8]])]
    }

    static func examine(_ paths: [FilePath]) throws(CommandError) -> Findings {
        var highest: [Int]?
        var muslFile: FilePath?
        var glibcFile: FilePath?
        var anyDynamic = false
        var needed: [(path: FilePath, libraries: [[UInt8]])] = []
        for path in paths {
            let size = try FileSystem.status(path, followingLinks: true).size
            guard size <= 1 << 31 else { throw CommandError(.unsupported, "\(path) is over 2 GiB; it is not an ERTS executable or NIF") }
            let bytes = try FileSystem.readContents(path, limit: Int(size))
            let elf: ELFFile
            do {
                elf = try ELFFile.parse(bytes)
            } catch {
                guard case .malformed(let reason) = error else { continue }
                throw CommandError(.corrupt, "\(path) is a damaged ELF file: \(reason)")
            }
            needed.append((path: path, libraries: elf.neededLibraries))
            anyDynamic = anyDynamic || !elf.neededLibraries.isEmpty || elf.interpreter != nil
            if let interpreter = elf.interpreter, interpreter.contains(Array("ld-musl".utf8)) {
                muslFile = path
            }
            for name in elf.neededVersions {
                guard let version = glibcVersion(name) else { continue }
                glibcFile = path
                if highest.map({ version.lexicographicallyPrecedes($0) || version == $0 }) != true { highest = version }
            }
        }
        if let muslFile {
            if let glibcFile {
                throw CommandError(.unsupported, "\(muslFile) is linked against musl but \(glibcFile) needs glibc; the files come from different builds")
            }
            return Findings(requirement: Requirement(libc: "musl", version: nil), needed: needed)
        }
        guard anyDynamic else { return Findings(requirement: Requirement(libc: "none", version: nil), needed: needed) }
        let version = highest.map { $0.map(String.init).joined(separator: ".") }
        return Findings(requirement: Requirement(libc: "gnu", version: version), needed: needed)
    }

    /// [2, 34] from "GLIBC_2.34"; nil for GLIBC_PRIVATE and other libraries' versions.
    static func glibcVersion(_ name: [UInt8]) -> [Int]? {
        let prefix = Array("GLIBC_".utf8)
        guard name.starts(with: prefix) else { return nil }
        let parts = name[prefix.count...].split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        var numbers: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.count < 6, part.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
            numbers.append(part.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) })
        }
        return numbers.isEmpty ? nil : numbers
    }
}
