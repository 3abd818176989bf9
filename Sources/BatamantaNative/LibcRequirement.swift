/// `:libc_requirement`: which C library, and which glibc version at least, a set of ELF
/// files (an ERTS's executables and NIFs) needs on the machine that runs them.
enum LibcRequirement {
    static func run(_ arguments: Arguments, _ progress: Progress) throws(CommandError) -> Term {
        let requirement = try requirement(of: try arguments.paths("paths"))
        return .record(["libc": .string(requirement.libc), "version": .string(requirement.version)])
    }

    struct Requirement: Equatable {
        var libc: String
        var version: String?
    }

    static func requirement(of paths: [FilePath]) throws(CommandError) -> Requirement {
        var highest: [Int]?
        var muslFile: FilePath?
        var glibcFile: FilePath?
        var anyDynamic = false
        for path in paths {
            let size = try FileSystem.followingStatus(path).size
            guard size <= 1 << 31 else { throw CommandError(.unsupported, "\(path) is over 2 GiB; it is not an ERTS executable or NIF") }
            let bytes = try FileSystem.readContents(path, limit: Int(size))
            let elf: ELFFile
            do {
                elf = try ELFFile.parse(bytes)
            } catch {
                guard case .malformed(let reason) = error else { continue }
                throw CommandError(.corrupt, "\(path) is a damaged ELF file: \(reason)")
            }
            anyDynamic = anyDynamic || elf.needsLibraries || elf.interpreter != nil
            if let interpreter = elf.interpreter, interpreter.contains(subsequence: Array("ld-musl".utf8)) {
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
            return Requirement(libc: "musl", version: nil)
        }
        guard anyDynamic else { return Requirement(libc: "none", version: nil) }
        return Requirement(libc: "gnu", version: highest.map { $0.map(String.init).joined(separator: ".") })
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
