import CLibc

/// This executable as a container: the trailer and metadata found at its end.
struct SelfImage {
    static let path: [UInt8] = Array("/proc/self/exe".utf8)

    var file: FileDescriptor
    var trailer: Trailer
    var metadataBytes: [UInt8]
    var metadata: Metadata
    /// Absolute path of the executable, for BATAMANTA_BIN.
    var executablePath: [UInt8]

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
        guard size >= UInt64(Trailer.size) else { return .failure(Failure(FormatError.noTrailer, path: executable)) }

        // Metadata is a few hundred bytes and ends where the trailer starts, so one read
        // of the tail usually holds both.
        let tailSize = min(size, 4096)
        let tail: [UInt8]
        switch file.read(count: Int(tailSize), at: size - tailSize) {
        case .success(let bytes?): tail = bytes
        case .success(nil): return .failure(Failure(FormatError.noTrailer, path: executable))
        case .failure(let errno): return .failure(Failure(errno: errno.rawValue, path: executable, "cannot read trailer", otherwise: .ioError))
        }
        let trailer: Trailer
        do throws(FormatError) {
            trailer = try Trailer.parse(Array(tail.suffix(Trailer.size)), fileSize: size)
        } catch {
            return .failure(Failure(error, path: executable))
        }
        let metadataBytes: [UInt8]
        let metadataEnd = tail.count - Trailer.size
        if trailer.metadataLength <= UInt64(metadataEnd) {
            metadataBytes = Array(tail[(metadataEnd - Int(trailer.metadataLength))..<metadataEnd])
        } else {
            switch file.read(count: Int(trailer.metadataLength), at: trailer.metadataOffset) {
            case .success(let bytes?): metadataBytes = bytes
            case .success(nil): return .failure(Failure(FormatError.corrupt(.trailerLayout), path: executable))
            case .failure(let errno): return .failure(Failure(errno: errno.rawValue, path: executable, "cannot read metadata", otherwise: .ioError))
            }
        }
        do throws(FormatError) {
            let metadata = try Metadata.parse(metadataBytes)
            return .success(SelfImage(
                file: file, trailer: trailer, metadataBytes: metadataBytes, metadata: metadata, executablePath: executable))
        } catch {
            return .failure(Failure(error, path: executable))
        }
    }
}
