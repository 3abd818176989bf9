import BatamantaFormat
import CZstd
import Glibc

/// Compressed frames from earlier packs, one file per frame, named for a hash of
/// everything the frame's bytes depend on: the tar bytes it holds and the compressor's
/// settings and version. A rebuild of the same app finds its runtime's frame here and
/// skips compressing it, the step that costs most of a build at high levels.
///
/// A hit is decoded and checked against the segment before it is used, so a damaged
/// or foreign file in the cache costs a compression, never a wrong payload. Which
/// entries stay is the caller's business (`Batamanta.FrameCache` prunes by age); a hit
/// refreshes the file's mtime for that.
struct FrameCache {
    let path: FilePath

    init(directory: FilePath, key: [UInt8]) {
        path = directory.appending(hexDigits(key) + Array(".zst".utf8))
    }

    /// What names a frame: the hash of the segment's tar bytes, and the settings.
    static func key(contents: [UInt8], settings: ZstdCompressor.Settings) -> [UInt8] {
        var key = SHA256()
        key.update(Array("batamanta frame 1 level \(settings.level) job \(ZstdCompressor.jobSize) zstd \(ZSTD_versionNumber())\n".utf8))
        key.update(contents)
        return key.finalize()
    }

    /// Writes the cached frame through `write` and returns true when there is one that
    /// decodes, with its checksum, to `size` bytes hashing to `contents`; false when the
    /// segment must be compressed.
    func copy(to write: (UnsafeRawBufferPointer) throws(CommandError) -> Void, contents: [UInt8], size: UInt64) throws(CommandError) -> Bool {
        guard let frame = try? FileSystem.readContents(path, limit: ZSTD_compressBound(Int(size)) + 1),
              decodes(frame, contents: contents, size: size)
        else { return false }
        try frame.withBytes(write)
        _ = path.withCString { utimensat(AT_FDCWD, $0, nil, 0) }
        return true
    }

    private func decodes(_ frame: [UInt8], contents: [UInt8], size expected: UInt64) -> Bool {
        guard ZstdFrame.hasChecksummedHeader(frame), let decoder = ZstdDecoder() else { return false }
        var hash = SHA256()
        var size: UInt64 = 0
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: ZstdDecoder.recommendedOutputSize, alignment: 16)
        defer { output.deallocate() }
        return frame.withUnsafeBytes { bytes in
            var input = bytes
            while true {
                guard let step = try? decoder.decompress(&input, into: output) else { return false }
                hash.update(UnsafeRawBufferPointer(rebasing: output[..<step.produced]))
                size += UInt64(step.produced)
                if step.frameEnded { return input.isEmpty && size == expected && hash.finalize() == contents }
                if input.isEmpty && step.produced < output.count { return false }
            }
        }
    }
}
