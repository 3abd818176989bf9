/// Why a batamanta file or payload was refused. Kept as plain values (no `any Error`)
/// so the same code compiles inside the Embedded Swift dispenser.
public enum FormatError: Error, Equatable {
    /// The file does not end with a batamanta trailer (stripped, truncated or not ours).
    case noTrailer
    /// The trailer, metadata or tar stream is malformed.
    case corrupt(Corruption)
    /// A tar entry would write outside the extraction root or through a link.
    case unsafeEntry(UnsafeEntry, path: [UInt8])

    /// A one-line, allocation-free description for the dispenser's error message.
    public var summary: StaticString {
        switch self {
        case .noTrailer: return "no batamanta payload found (stripped or truncated?)"
        case .corrupt(let corruption): return corruption.summary
        case .unsafeEntry(let reason, _): return reason.summary
        }
    }
}

public enum Corruption: Equatable, Sendable {
    case trailerVersion
    case trailerLayout
    case metadataRecord
    case metadataKey
    case tarChecksum
    case tarMagic
    case tarNumber
    case tarPax
    case tarEntryType
    case tarEntrySize
    case tarTruncated
    case tarTrailingData
    case payloadNotChecksummed
    case payloadUndecodable
    case payloadAfterFrame
    case payloadTruncated
    case contentHash
    case uncompressedSize

    public var summary: StaticString {
        switch self {
        case .trailerVersion: return "unsupported trailer version"
        case .trailerLayout: return "corrupt trailer"
        case .metadataRecord: return "corrupt metadata record"
        case .metadataKey: return "invalid metadata key"
        case .tarChecksum: return "corrupt payload: tar header checksum mismatch"
        case .tarMagic: return "corrupt payload: not a ustar header"
        case .tarNumber: return "corrupt payload: bad number in tar header"
        case .tarPax: return "corrupt payload: bad pax extended header"
        case .tarEntryType: return "corrupt payload: unsupported tar entry type"
        case .tarEntrySize: return "corrupt payload: bad tar entry size"
        case .tarTruncated: return "corrupt payload: tar stream truncated"
        case .tarTrailingData: return "corrupt payload: data after end of tar archive"
        case .payloadNotChecksummed: return "corrupt payload: not a zstd frame with a content checksum"
        case .payloadUndecodable: return "corrupt payload: zstd decoding failed"
        case .payloadAfterFrame: return "corrupt payload: data after a zstd frame that starts no checksummed frame"
        case .payloadTruncated: return "corrupt payload: zstd frame truncated"
        case .contentHash: return "corrupt payload: content hash mismatch, modified after assembly"
        case .uncompressedSize: return "corrupt payload: uncompressed size differs from the trailer's"
        }
    }
}

public enum UnsafeEntry: Equatable, Sendable {
    case emptyPath
    case absolutePath
    case dotComponent
    case parentComponent
    case missingParent
    case throughLink
    case duplicate
    case absoluteLinkTarget
    case escapingLinkTarget

    public var summary: StaticString {
        switch self {
        case .emptyPath: return "unsafe payload: empty entry path"
        case .absolutePath: return "unsafe payload: absolute entry path"
        case .dotComponent: return "unsafe payload: '.' or empty path component"
        case .parentComponent: return "unsafe payload: '..' in entry path"
        case .missingParent: return "unsafe payload: entry's parent directory not in archive"
        case .throughLink: return "unsafe payload: entry goes through a symlink or file"
        case .duplicate: return "unsafe payload: entry replaces an earlier entry"
        case .absoluteLinkTarget: return "unsafe payload: absolute symlink target"
        case .escapingLinkTarget: return "unsafe payload: symlink leaves the extraction root"
        }
    }
}
