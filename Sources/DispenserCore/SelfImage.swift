import CLibc

/// This executable as a container: the trailer and metadata found at its end.
struct SelfImage {
    var file: FileDescriptor
    var trailer: Trailer
    var metadataBytes: [UInt8]
    var metadata: Metadata
    /// Absolute path of the executable, for BATAMANTA_BIN.
    var executablePath: [UInt8]

    static func open() throws(Failure) -> SelfImage {
        let path = Platform.ownExecutable
        let file = try FileDescriptor.currentDirectory.open(path, O_RDONLY).orThrow {
            Failure(errno: $0, path: path, "cannot open own executable")
        }
        let executable = linkTarget(path) ?? path
        let size = UInt64(try file.status().orThrow { Failure(errno: $0, path: executable, "cannot stat own executable") }.st_size)
        guard size >= UInt64(Trailer.size) else { throw Failure(FormatError.noTrailer, path: executable) }

        // Metadata is a few hundred bytes and ends where the trailer starts, so one read
        // of the tail usually holds both.
        let tailSize = min(size, 4096)
        let tail = try read(file, count: Int(tailSize), at: size - tailSize, of: executable, "cannot read trailer", short: .noTrailer)
        let trailer = try Failure.checking(executable) { () throws(FormatError) in try Trailer.parse(Array(tail.suffix(Trailer.size)), fileSize: size) }
        let metadataBytes: [UInt8]
        let metadataEnd = tail.count - Trailer.size
        if trailer.metadataLength <= UInt64(metadataEnd) {
            metadataBytes = Array(tail[(metadataEnd - Int(trailer.metadataLength))..<metadataEnd])
        } else {
            metadataBytes = try read(file, count: Int(trailer.metadataLength), at: trailer.metadataOffset, of: executable,
                                     "cannot read metadata", short: .corrupt(.trailerLayout))
        }
        let metadata = try Failure.checking(executable) { () throws(FormatError) in try Metadata.parse(metadataBytes) }
        return SelfImage(file: file, trailer: trailer, metadataBytes: metadataBytes, metadata: metadata, executablePath: executable)
    }

    /// A read of our own file: ending early means the layout is not what the trailer says.
    private static func read(_ file: FileDescriptor, count: Int, at offset: UInt64, of path: [UInt8], _ message: StaticString,
                             short: FormatError) throws(Failure) -> [UInt8] {
        try file.read(count: count, fromAbsoluteOffset: offset).orThrow { failure in
            switch failure {
            case .endOfFile: return Failure(short, path: path)
            case .system(let errno): return Failure(errno: errno, path: path, message, otherwise: .ioError)
            }
        }
    }
}
