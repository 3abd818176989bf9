/// The fixed 96-byte record at the very end of a batamanta executable (docs/FORMAT.md).
public struct Trailer: Equatable, Sendable {
    public static let size = 96
    public static let version: UInt32 = 1
    static let magic: [UInt8] = Array("BATAMNTA".utf8)
    static let endMagic: [UInt8] = Array("ATNMATAB".utf8)
    /// Metadata is a few hundred bytes; a huge length means a damaged trailer, and
    /// readers would otherwise allocate whatever it claims.
    public static let maxMetadataLength: UInt64 = 1 << 20

    public var payloadOffset: UInt64
    public var payloadLength: UInt64
    public var metadataOffset: UInt64
    public var metadataLength: UInt64
    /// SHA-256 of the payload bytes followed by the metadata bytes.
    public var contentHash: [UInt8]
    /// Length of the tar stream inside the zstd frame.
    public var uncompressedSize: UInt64

    public init(
        payloadOffset: UInt64, payloadLength: UInt64, metadataOffset: UInt64, metadataLength: UInt64,
        contentHash: [UInt8], uncompressedSize: UInt64
    ) {
        self.payloadOffset = payloadOffset
        self.payloadLength = payloadLength
        self.metadataOffset = metadataOffset
        self.metadataLength = metadataLength
        self.contentHash = contentHash
        self.uncompressedSize = uncompressedSize
    }

    public func encoded() -> [UInt8] {
        precondition(contentHash.count == 32, "content hash must be 32 bytes")
        var bytes = Trailer.magic
        bytes.reserveCapacity(Trailer.size)
        bytes.appendLittleEndian(Trailer.version)
        bytes.appendLittleEndian(UInt32(Trailer.size))
        bytes.appendLittleEndian(payloadOffset)
        bytes.appendLittleEndian(payloadLength)
        bytes.appendLittleEndian(metadataOffset)
        bytes.appendLittleEndian(metadataLength)
        bytes.append(contentsOf: contentHash)
        bytes.appendLittleEndian(uncompressedSize)
        bytes.append(contentsOf: Trailer.endMagic)
        return bytes
    }

    /// Parses the last 96 bytes of a file of `fileSize` bytes. Missing magics mean the
    /// file carries no payload at all; anything else wrong is corruption.
    public static func parse(_ bytes: [UInt8], fileSize: UInt64) throws(FormatError) -> Trailer {
        guard bytes.count == size, bytes[0..<8].elementsEqual(magic), bytes[88..<96].elementsEqual(endMagic) else {
            throw .noTrailer
        }
        guard bytes.littleEndianUInt32(at: 8) == version else { throw .corrupt(.trailerVersion) }
        guard bytes.littleEndianUInt32(at: 12) == UInt32(size) else { throw .corrupt(.trailerLayout) }
        let trailer = Trailer(
            payloadOffset: bytes.littleEndianUInt64(at: 16),
            payloadLength: bytes.littleEndianUInt64(at: 24),
            metadataOffset: bytes.littleEndianUInt64(at: 32),
            metadataLength: bytes.littleEndianUInt64(at: 40),
            contentHash: Array(bytes[48..<80]),
            uncompressedSize: bytes.littleEndianUInt64(at: 80)
        )
        guard fileSize >= UInt64(size), trailer.payloadLength > 0, trailer.metadataLength > 0,
              trailer.metadataLength <= maxMetadataLength else {
            throw .corrupt(.trailerLayout)
        }
        let (payloadEnd, overflow1) = trailer.payloadOffset.addingReportingOverflow(trailer.payloadLength)
        let (metadataEnd, overflow2) = trailer.metadataOffset.addingReportingOverflow(trailer.metadataLength)
        guard !overflow1, !overflow2, payloadEnd == trailer.metadataOffset, metadataEnd == fileSize - UInt64(size) else {
            throw .corrupt(.trailerLayout)
        }
        return trailer
    }
}

extension Trailer {
    /// What sits between the payload and the end of the file, read and checked.
    public struct Located {
        public var trailer: Trailer
        /// Verbatim, because the content hash covers them.
        public var metadataBytes: [UInt8]
        public var metadata: Metadata
    }

    /// Metadata is a few hundred bytes and ends where the trailer starts, so one read of
    /// the file's tail usually holds both.
    static let tailReadSize: UInt64 = 4096

    /// Finds the trailer and metadata of a file of `fileSize` bytes. `read(count, offset)`
    /// returns the bytes there, or nil when the file ends first; `refusing` turns a format
    /// error into the caller's error, so both kinds come back as one type.
    public static func locate<Refusal: Error>(
        fileSize: UInt64,
        read: (_ count: Int, _ offset: UInt64) throws(Refusal) -> [UInt8]?,
        refusing: (FormatError) -> Refusal
    ) throws(Refusal) -> Located {
        guard fileSize >= UInt64(size) else { throw refusing(.noTrailer) }
        let tailSize = min(fileSize, tailReadSize)
        guard let tail = try read(Int(tailSize), fileSize - tailSize) else { throw refusing(.noTrailer) }
        let trailer: Trailer
        do throws(FormatError) {
            trailer = try parse(Array(tail.suffix(size)), fileSize: fileSize)
        } catch {
            throw refusing(error)
        }
        let metadataEnd = tail.count - size
        let metadataBytes: [UInt8]
        if trailer.metadataLength <= UInt64(metadataEnd) {
            metadataBytes = Array(tail[(metadataEnd - Int(trailer.metadataLength))..<metadataEnd])
        } else {
            guard let bytes = try read(Int(trailer.metadataLength), trailer.metadataOffset) else {
                throw refusing(.corrupt(.trailerLayout))
            }
            metadataBytes = bytes
        }
        do throws(FormatError) {
            return Located(trailer: trailer, metadataBytes: metadataBytes, metadata: try Metadata.parse(metadataBytes))
        } catch {
            throw refusing(error)
        }
    }
}
