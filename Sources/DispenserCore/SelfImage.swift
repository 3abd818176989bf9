import CLibc

/// This executable as a container: the trailer and metadata found at its end.
struct SelfImage {
    var file: FileDescriptor
    var located: Trailer.Located
    /// Absolute path of the executable, for BATAMANTA_BIN.
    var executablePath: [UInt8]

    var trailer: Trailer { located.trailer }
    var metadata: Metadata { located.metadata }

    static func open() throws(Failure) -> SelfImage {
        let path = Platform.ownExecutable
        let file = try FileDescriptor.currentDirectory.open(path, O_RDONLY).orThrow {
            Failure(errno: $0, path: path, "cannot open own executable")
        }
        let executable = linkTarget(path) ?? path
        let size = UInt64(try file.status().orThrow { Failure(errno: $0, path: executable, "cannot stat own executable") }.st_size)
        let located = try Trailer.locate(fileSize: size, read: { (count, offset) throws(Failure) in
            switch file.read(count: count, fromAbsoluteOffset: offset) {
            case .success(let bytes): return bytes
            case .failure(.endOfFile): return nil
            case .failure(.system(let errno)): throw Failure(errno: errno, path: executable, "cannot read trailer", otherwise: .ioError)
            }
        }, refusing: { Failure($0, path: executable) })
        return SelfImage(file: file, located: located, executablePath: executable)
    }
}
