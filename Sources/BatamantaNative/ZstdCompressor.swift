import CZstd
import Glibc

/// Streams bytes into one zstd frame with the content checksum on, handing compressed
/// output to `sink` as it is produced.
final class ZstdCompressor {
    struct Settings: Equatable {
        /// Long-distance matching is deliberately not offered: measured on a `mix release`
        /// tar it saved under 0.3% (1-2% on all of /usr/lib/erlang) at levels 3, 9 and 19.
        var level: Int32
        /// Recorded in the frame header so readers can size buffers and spot truncation.
        var pledgedSize: UInt64?
    }

    /// Jobs of 5 MiB split a 10 MB release tar in two, one per core. Each job after the first
    /// reads the window before it again: measured at level 16 on hello_cli's tree, 5 MiB
    /// jobs cost 4.1 s of CPU against 3.0 s on one thread with the same size, 2 MiB jobs
    /// 5.3 s and 0.3% more. With one worker or more, libzstd's output depends on the job
    /// size but not on the number of workers, so a build gives the same bytes anywhere.
    static let jobSize: Int32 = 5 << 20
    static let workers = Int32(clamping: sysconf(Int32(_SC_NPROCESSORS_ONLN)))

    private let context: OpaquePointer
    private var output: [UInt8]
    private let sink: (UnsafeRawBufferPointer) throws(CommandError) -> Void
    private let name: String

    /// `name` is the file the frame goes to, for error messages.
    init(_ settings: Settings, name: String, sink: @escaping (UnsafeRawBufferPointer) throws(CommandError) -> Void) throws(CommandError) {
        guard let context = ZSTD_createCCtx() else { throw CommandError(.ioError, "zstd could not allocate a compressor for \(name)") }
        self.context = context
        self.sink = sink
        self.name = name
        output = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, settings.level))
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1))
        // A libzstd built without threads refuses workers and compresses on this thread.
        if ZSTD_isError(ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, Self.workers)) == 0 {
            try check(ZSTD_CCtx_setParameter(context, ZSTD_c_jobSize, Self.jobSize))
        }
        if let pledgedSize = settings.pledgedSize {
            try check(ZSTD_CCtx_setPledgedSrcSize(context, pledgedSize))
        }
    }

    deinit {
        ZSTD_freeCCtx(context)
    }

    func compress(_ bytes: UnsafeRawBufferPointer) throws(CommandError) {
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while input.pos < input.size {
            _ = try step(&input, ZSTD_e_continue)
        }
    }

    func compress(_ bytes: [UInt8]) throws(CommandError) {
        try bytes.withBytes(compress)
    }

    /// Flushes everything and writes the frame epilogue (with its checksum).
    func finish() throws(CommandError) {
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try step(&input, ZSTD_e_end) != 0 {}
    }

    private func step(_ input: inout ZSTD_inBuffer, _ directive: ZSTD_EndDirective) throws(CommandError) -> Int {
        let capacity = output.count
        let (remaining, produced) = output.withUnsafeMutableBytes { buffer -> (Int, Int) in
            var out = ZSTD_outBuffer(dst: buffer.baseAddress, size: capacity, pos: 0)
            let remaining = ZSTD_compressStream2(context, &out, &input, directive)
            return (remaining, out.pos)
        }
        try check(remaining)
        if produced > 0 {
            try output.withBytes { (buffer) throws(CommandError) in try sink(UnsafeRawBufferPointer(rebasing: buffer[..<produced])) }
        }
        return remaining
    }

    private func check(_ code: Int) throws(CommandError) {
        guard ZSTD_isError(code) != 0 else { return }
        throw CommandError(.ioError, "zstd failed compressing \(name): \(String(cString: ZSTD_getErrorName(code)))")
    }
}
