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

    /// The values of the ELF specification (gABI) this reader looks at.
    private enum Tag {
        static let magic: [UInt8] = [0x7f, UInt8(ascii: "E"), UInt8(ascii: "L"), UInt8(ascii: "F")]
        static let classIndex = 4
        static let dataIndex = 5
        static let class64: UInt8 = 2
        static let littleEndian: UInt8 = 1
        /// The 32-bit header is the smaller one.
        static let minimumHeaderSize = 52

        static let loadSegment: UInt32 = 1 // PT_LOAD
        static let dynamicSegment: UInt32 = 2 // PT_DYNAMIC
        static let interpreterSegment: UInt32 = 3 // PT_INTERP

        static let dynamicEnd: UInt64 = 0 // DT_NULL
        static let needed: UInt64 = 1 // DT_NEEDED
        static let stringTable: UInt64 = 5 // DT_STRTAB
        static let versionNeeds: UInt64 = 0x6fff_fffe // DT_VERNEED
        static let versionNeedCount: UInt64 = 0x6fff_ffff // DT_VERNEEDNUM
    }

    /// What the dynamic segment points at, as virtual addresses and string offsets.
    private struct DynamicEntries {
        var stringTable: UInt64?
        var neededNames: [UInt64] = []
        var versionNeeds: UInt64?
        var versionNeedCount: UInt64 = 0
    }

    static func parse(_ bytes: [UInt8]) throws(ParseError) -> ELFFile {
        let (reader, segments) = try readProgramHeaders(bytes)
        var elf = ELFFile(interpreter: nil, neededLibraries: [], neededVersions: [])
        if let interp = segments.first(where: { $0.type == Tag.interpreterSegment }) {
            elf.interpreter = try reader.string(at: interp.offset)
        }
        guard let dynamic = segments.first(where: { $0.type == Tag.dynamicSegment }) else { return elf }
        let entries = try readDynamic(dynamic, reader)
        guard let stringTableAddress = entries.stringTable else {
            guard entries.neededNames.isEmpty else { throw .malformed("it names needed libraries but has no string table") }
            return elf
        }
        let loads = segments.filter { $0.type == Tag.loadSegment }
        func fileOffset(_ address: UInt64) throws(ParseError) -> UInt64 {
            guard let load = loads.first(where: { address >= $0.virtualAddress && address - $0.virtualAddress < $0.fileSize }) else {
                throw .malformed("address \(address) is not in any loaded segment")
            }
            return load.offset &+ (address &- load.virtualAddress)
        }
        let strings = try fileOffset(stringTableAddress)
        for name in entries.neededNames {
            elf.neededLibraries.append(try reader.string(at: strings &+ name))
        }
        guard let versionNeedsAddress = entries.versionNeeds else { return elf }
        elf.neededVersions = try readVersionNeeds(
            at: try fileOffset(versionNeedsAddress), count: entries.versionNeedCount, strings: strings, reader)
        return elf
    }

    /// The ELF header's class and byte order, then every program header.
    private static func readProgramHeaders(_ bytes: [UInt8]) throws(ParseError) -> (Reader, [Segment]) {
        guard bytes.count >= Tag.minimumHeaderSize, bytes.starts(with: Tag.magic) else { throw .notELF }
        guard (1...2).contains(bytes[Tag.classIndex]), (1...2).contains(bytes[Tag.dataIndex]) else {
            throw .malformed("unknown ELF class or byte order")
        }
        let reader = Reader(bytes: bytes, is64: bytes[Tag.classIndex] == Tag.class64, isLittleEndian: bytes[Tag.dataIndex] == Tag.littleEndian)
        let is64 = reader.is64
        // e_phoff, e_phentsize, e_phnum.
        let programHeaderOffset = try reader.word(at: is64 ? 0x20 : 0x1c)
        let entrySize = try reader.integer(at: is64 ? 0x36 : 0x2a, size: 2)
        let entryCount = try reader.integer(at: is64 ? 0x38 : 0x2c, size: 2)
        var segments: [Segment] = []
        for index in 0..<entryCount {
            let base = programHeaderOffset &+ index &* entrySize
            // p_type, then p_offset, p_vaddr and p_filesz, which sit apart in the two classes.
            segments.append(Segment(
                type: UInt32(truncatingIfNeeded: try reader.integer(at: base, size: 4)),
                offset: try reader.word(at: base &+ (is64 ? 0x08 : 0x04)),
                virtualAddress: try reader.word(at: base &+ (is64 ? 0x10 : 0x08)),
                fileSize: try reader.word(at: base &+ (is64 ? 0x20 : 0x10))))
        }
        return (reader, segments)
    }

    private static func readDynamic(_ dynamic: Segment, _ reader: Reader) throws(ParseError) -> DynamicEntries {
        var entries = DynamicEntries()
        let entrySize: UInt64 = reader.is64 ? 16 : 8
        // The file size bounds the walk even when the segment claims more.
        let end = min(dynamic.offset &+ dynamic.fileSize, UInt64(reader.bytes.count))
        var position = dynamic.offset
        scan: while position < end, end &- position >= entrySize {
            let tag = try reader.word(at: position)
            let value = try reader.word(at: position &+ entrySize / 2)
            switch tag {
            case Tag.dynamicEnd: break scan
            case Tag.needed: entries.neededNames.append(value)
            case Tag.stringTable: entries.stringTable = value
            case Tag.versionNeeds: entries.versionNeeds = value
            case Tag.versionNeedCount: entries.versionNeedCount = value
            default: break
            }
            position += entrySize
        }
        return entries
    }

    /// Walks the `.gnu.version_r` chains from the file offset `start`.
    private static func readVersionNeeds(
        at start: UInt64, count: UInt64, strings: UInt64, _ reader: Reader
    ) throws(ParseError) -> [[UInt8]] {
        var versions: [[UInt8]] = []
        var need = start
        // Verneed: vn_version(2) vn_cnt(2) vn_file(4) vn_aux(4) vn_next(4);
        // Vernaux: vna_hash(4) vna_flags(2) vna_other(2) vna_name(4) vna_next(4).
        for _ in 0..<min(count, 4096) {
            let auxCount = try reader.integer(at: need &+ 2, size: 2)
            var aux = need &+ (try reader.integer(at: need &+ 8, size: 4))
            for _ in 0..<auxCount {
                versions.append(try reader.string(at: strings &+ (try reader.integer(at: aux &+ 8, size: 4))))
                let nextAux = try reader.integer(at: aux &+ 12, size: 4)
                if nextAux == 0 { break }
                aux &+= nextAux
            }
            let next = try reader.integer(at: need &+ 12, size: 4)
            if next == 0 { break }
            need &+= next
        }
        return versions
    }
}
