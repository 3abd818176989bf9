import CLibc

/// This executable as a container: the trailer and metadata found at its end.
struct SelfImage {
    static let path: [UInt8] = Array("/proc/self/exe".utf8)

    var file: FileDescriptor
    var located: Trailer.Located
    /// Absolute path of the executable, for BATAMANTA_BIN.
    var executablePath: [UInt8]

    var trailer: Trailer { located.trailer }
    var metadata: Metadata { located.metadata }

    static func open() -> Result<SelfImage, Failure> {
        let file: FileDescriptor
        switch FileDescriptor.currentDirectory.open(path, O_RDONLY) {
        case .success(let fd): file = fd
        case .failure(let errno): return .failure(Failure(errno: errno.rawValue, path: path, "cannot open own executable"))
        }
        let executable = linkTarget(path) ?? path
        let size: UInt64
        switch file.status() {
        case .success(let info): size = UInt64(info.st_size)
        case .failure(let errno): return .failure(Failure(errno: errno.rawValue, path: executable, "cannot stat own executable"))
        }
        do throws(Failure) {
            let located = try Trailer.locate(fileSize: size, read: { (count, offset) throws(Failure) in
                switch file.read(count: count, at: offset) {
                case .success(let bytes): return bytes
                case .failure(let errno): throw Failure(errno: errno.rawValue, path: executable, "cannot read trailer", otherwise: .ioError)
                }
            }, refusing: { Failure($0, path: executable) })
            return .success(SelfImage(file: file, located: located, executablePath: executable))
        } catch {
            return .failure(error)
        }
    }
}
