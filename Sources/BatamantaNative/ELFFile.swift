/// The parts of an ELF file that say which C library it needs: the program interpreter
/// and the version requirements (`.gnu.version_r`, found through the dynamic segment as
/// the loader finds it, so section-stripped files still answer).
struct ELFFile {
    var interpreter: [UInt8]?
    /// The shared libraries to load (DT_NEEDED), in file order. A static-pie file has a
    /// dynamic segment too, for relocating itself, but needs nothing.
    var neededLibraries: [[UInt8]]
    /// Version names needed from shared libraries, e.g. "GLIBC_2.34".
    var neededVersions: [[UInt8]]

    enum ParseError: Error, Equatable {
        case notELF
        case malformed(String)
    }

    private struct Reader {
        let bytes: [UInt8]
        let is64: Bool
        let isLittleEndian: Bool

        func integer(at offset: UInt64, size: Int) throws(ParseError) -> UInt64 {
            guard offset <= UInt64(bytes.count), UInt64(bytes.count) - offset >= UInt64(size) else {
                throw .malformed("a field at byte \(offset) lies past the end of the file")
            }
            var value: UInt64 = 0
            let start = Int(offset)
            for index in 0..<size {
                let byte = UInt64(bytes[isLittleEndian ? start + size - 1 - index : start + index])
                value = value << 8 | byte
            }
            return value
        }

        func word(at offset: UInt64) throws(ParseError) -> UInt64 {
            try integer(at: offset, size: is64 ? 8 : 4)
        }

        func string(at offset: UInt64) throws(ParseError) -> [UInt8] {
            guard offset < UInt64(bytes.count) else { throw .malformed("a string at byte \(offset) lies past the end of the file") }
            return Array(bytes[Int(offset)...].prefix { $0 != 0 })
        }
    }

    private struct Segment {
        var type: UInt32
        var offset: UInt64
        var virtualAddress: UInt64
        var fileSize: UInt64
    }

    static func parse(_ bytes: [UInt8]) throws(ParseError) -> ELFFile {
        guard bytes.count >= 52, bytes.starts(with: [0x7f, UInt8(ascii: "E"), UInt8(ascii: "L"), UInt8(ascii: "F")]) else {
            throw .notELF
        }
        guard (1...2).contains(bytes[4]), (1...2).contains(bytes[5]) else { throw .malformed("unknown ELF class or byte order") }
        let reader = Reader(bytes: bytes, is64: bytes[4] == 2, isLittleEndian: bytes[5] == 1)
        let is64 = reader.is64
        let programHeaderOffset = try reader.word(at: is64 ? 0x20 : 0x1c)
        let entrySize = try reader.integer(at: is64 ? 0x36 : 0x2a, size: 2)
        let entryCount = try reader.integer(at: is64 ? 0x38 : 0x2c, size: 2)

        var segments: [Segment] = []
        for index in 0..<entryCount {
            let base = programHeaderOffset &+ index &* entrySize
            let type = UInt32(truncatingIfNeeded: try reader.integer(at: base, size: 4))
            segments.append(Segment(
                type: type,
                offset: try reader.word(at: base &+ (is64 ? 0x08 : 0x04)),
                virtualAddress: try reader.word(at: base &+ (is64 ? 0x10 : 0x08)),
                fileSize: try reader.word(at: base &+ (is64 ? 0x20 : 0x10))))
        }
        var elf = ELFFile(interpreter: nil, neededLibraries: [], neededVersions: [])
        if let interp = segments.first(where: { $0.type == 3 }) {
            elf.interpreter = try reader.string(at: interp.offset)
        }
        guard let dynamic = segments.first(where: { $0.type == 2 }) else { return elf }

        var stringTable: UInt64?
        var neededNames: [UInt64] = []
        var versionNeeds: UInt64?
        var versionNeedCount: UInt64 = 0
        let dynamicEntrySize: UInt64 = is64 ? 16 : 8
        // The file size bounds the walk even when the segment claims more.
        let dynamicEnd = min(dynamic.offset &+ dynamic.fileSize, UInt64(bytes.count))
        var position = dynamic.offset
        scan: while position < dynamicEnd, dynamicEnd &- position >= dynamicEntrySize {
            let tag = try reader.word(at: position)
            let value = try reader.word(at: position &+ dynamicEntrySize / 2)
            switch tag {
            case 0: break scan
            case 1: neededNames.append(value)
            case 5: stringTable = value
            case 0x6fff_fffe: versionNeeds = value
            case 0x6fff_ffff: versionNeedCount = value
            default: break
            }
            position += dynamicEntrySize
        }
        guard let stringTableAddress = stringTable else {
            guard neededNames.isEmpty else { throw .malformed("it names needed libraries but has no string table") }
            return elf
        }
        let loads = segments.filter { $0.type == 1 }
        func fileOffset(_ address: UInt64) throws(ParseError) -> UInt64 {
            guard let load = loads.first(where: { address >= $0.virtualAddress && address - $0.virtualAddress < $0.fileSize }) else {
                throw .malformed("address \(address) is not in any loaded segment")
            }
            return load.offset &+ (address &- load.virtualAddress)
        }
        let strings = try fileOffset(stringTableAddress)
        for name in neededNames {
            elf.neededLibraries.append(try reader.string(at: strings &+ name))
        }
        guard let versionNeedsAddress = versionNeeds else { return elf }
        var need = try fileOffset(versionNeedsAddress)
        // Verneed: vn_version(2) vn_cnt(2) vn_file(4) vn_aux(4) vn_next(4);
        // Vernaux: vna_hash(4) vna_flags(2) vna_other(2) vna_name(4) vna_next(4).
        for _ in 0..<min(versionNeedCount, 4096) {
            let auxCount = try reader.integer(at: need &+ 2, size: 2)
            var aux = need &+ (try reader.integer(at: need &+ 8, size: 4))
            for _ in 0..<auxCount {
                elf.neededVersions.append(try reader.string(at: strings &+ (try reader.integer(at: aux &+ 8, size: 4))))
                let nextAux = try reader.integer(at: aux &+ 12, size: 4)
                if nextAux == 0 { break }
                aux &+= nextAux
            }
            let next = try reader.integer(at: need &+ 12, size: 4)
            if next == 0 { break }
            need &+= next
        }
        return elf
    }
}
