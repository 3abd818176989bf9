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
        let executable = resolvedExecutablePath()
        let size: UInt64
        switch file.status() {
        case .success(let info): size = UInt64(info.st_size)
        case .failure(let errno): return .failure(Failure(errno: errno.rawValue, path: executable, "cannot stat own executable"))
        }
        guard size >= UInt64(Trailer.size) else { return .failure(Failure(FormatError.noTrailer, path: executable)) }

        let trailerBytes: [UInt8]
        switch file.read(count: Trailer.size, at: size - UInt64(Trailer.size)) {
        case .success(let bytes?): trailerBytes = bytes
        case .success(nil): return .failure(Failure(FormatError.noTrailer, path: executable))
        case .failure(let errno): return .failure(Failure(errno: errno.rawValue, path: executable, "cannot read trailer", otherwise: .ioError))
        }
        let trailer: Trailer
        do throws(FormatError) {
            trailer = try Trailer.parse(trailerBytes, fileSize: size)
        } catch {
            return .failure(Failure(error, path: executable))
        }
        // Metadata is a few hundred bytes; a huge length means a damaged trailer.
        guard trailer.metadataLength <= 1 << 20 else {
            return .failure(Failure(FormatError.corrupt(.trailerLayout), path: executable))
        }
        let metadataBytes: [UInt8]
        switch file.read(count: Int(trailer.metadataLength), at: trailer.metadataOffset) {
        case .success(let bytes?): metadataBytes = bytes
        case .success(nil): return .failure(Failure(FormatError.corrupt(.trailerLayout), path: executable))
        case .failure(let errno): return .failure(Failure(errno: errno.rawValue, path: executable, "cannot read metadata", otherwise: .ioError))
        }
        do throws(FormatError) {
            let metadata = try Metadata.parse(metadataBytes)
            return .success(SelfImage(
                file: file, trailer: trailer, metadataBytes: metadataBytes, metadata: metadata, executablePath: executable))
        } catch {
            return .failure(Failure(error, path: executable))
        }
    }

    private static func resolvedExecutablePath() -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX))
        let count = buffer.withUnsafeMutableBytes { raw in
            withCPath(path) { readlink($0, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count) }
        }
        return count > 0 ? Array(buffer[0..<count]) : path
    }
}
