/// The layout of a ustar header block (POSIX.1-1988), written and read only through these
/// names. Numbers are octal text, strings NUL-padded.
enum Ustar {
    static let name = 0..<100, mode = 100..<108, uid = 108..<116, gid = 116..<124
    static let size = 124..<136, mtime = 136..<148
    /// Summed as if it held spaces.
    static let checksum = 148..<156
    static let typeflag = 156, linkName = 157..<257
    /// "ustar\0" then the version "00"; the user and group names that follow stay empty.
    static let magic = 257..<263, version = 263..<265
    static let devMajor = 329..<337, devMinor = 337..<345, prefix = 345..<500

    static let magicValue: [UInt8] = Array("ustar\u{0}".utf8)
    static let versionValue: [UInt8] = Array("00".utf8)

    enum Typeflag {
        static let file = UInt8(ascii: "0")
        /// Pre-POSIX tars mark regular files with NUL.
        static let oldFile: UInt8 = 0
        static let symlink = UInt8(ascii: "2")
        static let directory = UInt8(ascii: "5")
        static let paxExtended = UInt8(ascii: "x")
        /// GNU tar's long path and long link target records, which only foreign tars carry.
        static let gnuLongName = UInt8(ascii: "L")
        static let gnuLongLink = UInt8(ascii: "K")
    }
}
