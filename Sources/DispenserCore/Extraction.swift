import CLibc

/// Cold start: stream the payload from our own file through SHA-256, zstd and the tar
/// reader into a private temp dir, verify everything, then rename it into place. The
/// payload is never held in memory; only a few fixed-size buffers are.
enum Extraction {
    static let markerName: [UInt8] = Array(".batamanta-extraction".utf8)
    /// Prefix of a dir whose creator has not locked it yet (only for microseconds).
    static let newPrefix: [UInt8] = Array(".batamanta-new-".utf8)
    /// Prefix of a dir being extracted; its extractor holds LOCK_EX on it.
    static let temporaryPrefix: [UInt8] = Array(".batamanta-tmp-".utf8)
    /// Prefix of a dir being deleted.
    static let trashPrefix: [UInt8] = Array(".batamanta-trash-".utf8)

    static let readSize = 1 << 18

    /// Extracts into `cache` under `name` and returns the extraction holding LOCK_SH. If
    /// another process finished first, ours is deleted and theirs is returned.
    static func extract(_ image: SelfImage, named name: [UInt8], app: [UInt8], in cache: CacheDirectory) -> Result<FileDescriptor, Failure> {
        let suffix = randomSuffix()
        let newName = joined(newPrefix, suffix)
        let temporaryName = joined(temporaryPrefix, suffix)
        let temporaryPath = cache.pathOf(temporaryName)
        if case .failure(let errno) = cache.descriptor.makeDirectory(newName, mode: 0o700) {
            return .failure(Failure(errno: errno.rawValue, path: cache.pathOf(newName), "cannot create directory", otherwise: .noCacheDirectory))
        }
        let directory: FileDescriptor
        switch cache.descriptor.openDirectory(newName, inheritable: true) {
        case .success(let fd): directory = fd
        case .failure(let errno):
            _ = cache.descriptor.removeTree(newName)
            return .failure(Failure(errno: errno.rawValue, path: cache.pathOf(newName), "cannot open directory"))
        }
        var currentName = newName
        let outcome = directory.lock(LOCK_EX).mapError { Failure(errno: $0.rawValue, path: temporaryPath, "cannot lock directory") }
            .flatMap { _ in
                cache.descriptor.rename(newName, to: temporaryName).mapError { Failure(errno: $0.rawValue, path: temporaryPath, "cannot rename directory") }
            }
            .flatMap { _ -> Result<Void, Failure> in
                currentName = temporaryName
                return unpack(image, into: directory, at: temporaryPath)
            }
            .flatMap { _ in writeMarker(app: app, name: name, into: directory, at: temporaryPath) }
            .flatMap { _ in directory.syncFileSystem().mapError { Failure(errno: $0.rawValue, path: temporaryPath, "cannot sync", otherwise: .ioError) } }
        if case .failure(let failure) = outcome {
            _ = cache.descriptor.removeTree(currentName)
            directory.close()
            return .failure(failure)
        }

        switch cache.descriptor.rename(temporaryName, to: name) {
        case .success:
            if case .failure(let errno) = directory.lock(LOCK_SH) {
                directory.close()
                return .failure(Failure(errno: errno.rawValue, path: cache.pathOf(name), "cannot lock extraction"))
            }
            return .success(directory)
        case .failure(let errno) where errno == Errno(EEXIST) || errno == Errno(ENOTEMPTY):
            _ = cache.descriptor.removeTree(temporaryName)
            directory.close()
            switch ExtractionLock.openShared(name, in: cache) {
            case .success(let winner?): return .success(winner)
            case .success(nil): return .failure(Failure(.osError, path: cache.pathOf(name), "extraction vanished while starting"))
            case .failure(let failure): return .failure(failure)
            }
        case .failure(let errno):
            _ = cache.descriptor.removeTree(temporaryName)
            directory.close()
            return .failure(Failure(errno: errno.rawValue, path: cache.pathOf(name), "cannot rename extraction into place"))
        }
    }

    private static func unpack(_ image: SelfImage, into root: FileDescriptor, at rootPath: [UInt8]) -> Result<Void, Failure> {
        guard var payload = PayloadReader(for: image.located) else {
            return .failure(Failure(.osError, path: image.executablePath, "cannot allocate zstd decoder"))
        }
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: readSize, alignment: 16)
        var writer = TreeWriter(root: root, rootPath: rootPath)
        defer {
            writer.abandon()
            input.deallocate()
        }
        var offset = image.trailer.payloadOffset
        let end = offset + image.trailer.payloadLength
        do throws(FormatError) {
            while offset < end {
                let count: Int
                switch image.file.read(into: UnsafeMutableRawBufferPointer(rebasing: input[0..<Int(min(UInt64(readSize), end - offset))]), at: offset) {
                case .success(0): throw .corrupt(.payloadTruncated)
                case .success(let n): count = n
                case .failure(let errno): return .failure(Failure(errno: errno.rawValue, path: image.executablePath, "cannot read payload", otherwise: .ioError))
                }
                offset += UInt64(count)
                try payload.feed(UnsafeRawBufferPointer(rebasing: input[0..<count]))
                while let event = try payload.next() {
                    if case .failure(let failure) = writer.handle(event) { return .failure(failure) }
                }
            }
            try payload.finish()
        } catch {
            return .failure(Failure(error, path: image.executablePath))
        }
        return writer.finish()
    }

    /// The marker says "batamanta made this, for this app": cleanup deletes nothing without it.
    private static func writeMarker(app: [UInt8], name: [UInt8], into root: FileDescriptor, at rootPath: [UInt8]) -> Result<Void, Failure> {
        let path = joined(rootPath, [slash], markerName)
        switch root.open(markerName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o444) {
        case .success(let marker):
            defer { marker.close() }
            return marker.writeAll(joined(Array("app=".utf8), app, Array("\nname=".utf8), name, [UInt8(ascii: "\n")]))
                .mapError { Failure(errno: $0.rawValue, path: path, "cannot write", otherwise: .ioError) }
        case .failure(let errno):
            return .failure(Failure(errno: errno.rawValue, path: path, "cannot create", otherwise: .ioError))
        }
    }
}
