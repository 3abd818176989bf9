import CGlibc
import Glibc

/// A file written under a temporary name next to its destination and renamed into place
/// only when complete, so readers never see a partial output. Dropped without `commit`,
/// the temporary file is removed.
final class AtomicFile {
    let destination: FilePath
    let descriptor: FileDescriptor
    private var temporaryPath: FilePath?

    init(destination: FilePath) throws(CommandError) {
        self.destination = destination
        let template = destination.parent.appending([UInt8(ascii: ".")] + destination.lastComponent + Array(".tmp-XXXXXX".utf8))
        var name = template.bytes.map { CChar(bitPattern: $0) } + [0]
        // Not retried on EINTR: a failed call may already have rewritten the template's Xs.
        let fd = name.withUnsafeMutableBufferPointer { bm_mkstemp_cloexec($0.baseAddress!) }
        guard fd >= 0 else { throw CommandError(.current, "create a temporary file in", destination.parent) }
        // mkostemp only turned the Xs into letters and digits.
        let path = FilePath(name.dropLast().map { UInt8(bitPattern: $0) })!
        temporaryPath = path
        descriptor = FileDescriptor.adopt(fd, path: path)
    }

    deinit {
        if let temporaryPath { _ = temporaryPath.withCString { unlink($0) } }
    }

    func commit(mode: mode_t) throws(CommandError) {
        guard let temporaryPath else { return }
        try descriptor.setMode(mode)
        try descriptor.synchronize()
        try descriptor.close()
        let renamed = temporaryPath.withCString { from in destination.withCString { to in rename(from, to) } }
        guard renamed == 0 else { throw CommandError(.current, "rename \(temporaryPath) to", destination) }
        self.temporaryPath = nil
    }
}
