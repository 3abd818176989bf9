import Glibc
@testable import BatamantaNative

/// Runs `script` with /bin/sh and returns its exit status and combined output.
@discardableResult
func shell(_ script: String, timeoutMilliseconds: Int32 = 60_000) -> (status: Int32?, output: String) {
    guard let outcome = Subprocess.run(
        FilePath("/bin/sh"), ["-c", "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin; " + script],
        timeoutMilliseconds: timeoutMilliseconds, outputLimit: 64 << 20)
    else { return (nil, "could not start /bin/sh") }
    return (outcome.status, String(decoding: outcome.output, as: UTF8.self))
}

/// A fresh directory under /tmp, removed when the value is dropped.
final class TemporaryDirectory: CustomStringConvertible {
    let path: FilePath

    init() {
        var template = Array("/tmp/batamanta-native-test-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(created != nil, "mkdtemp failed")
        path = FilePath(template.dropLast().map { UInt8(bitPattern: $0) })!
    }

    deinit {
        shell("rm -rf '\(path)'")
    }

    func callAsFunction(_ relative: String) -> FilePath {
        path.appending(relative)
    }

    var description: String { path.description }
}

/// An executable (`mode` with an x bit) is written by `install`, a process of its own:
/// a child that another test's thread forks while this process holds a file open for
/// writing keeps it open until its own exec, and meanwhile the kernel refuses to run the
/// file (ETXTBSY).
func writeFile(_ path: FilePath, _ contents: String, mode: mode_t = 0o644) throws {
    shell("mkdir -p '\(path.parent)'")
    let executable = mode & 0o111 != 0
    let written = executable ? path.parent.appending(Array(".".utf8) + path.lastComponent + Array(".bytes".utf8)) : path
    let file = try FileDescriptor.open(written, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
    try file.writeAll(Array(contents.utf8))
    guard executable else { return try file.setMode(mode) }
    try file.close()
    let installed = shell("install -m \(String(mode, radix: 8)) '\(written)' '\(path)' && rm '\(written)'")
    guard installed.status == 0 else { throw InstallFailure(path: path, output: installed.output) }
}

struct InstallFailure: Error {
    var path: FilePath
    var output: String
}

func readFile(_ path: FilePath) throws -> [UInt8] {
    let size = try FileSystem.status(path, followingLinks: false).size
    return try FileSystem.readContents(path, limit: Int(size))
}

/// The helper executable SwiftPM built next to the test bundle.
var helperExecutable: FilePath? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count)
    guard count > 0 else { return nil }
    let bundle = FilePath(buffer[..<count].map { UInt8(bitPattern: $0) })!
    for directory in [bundle.parent, bundle.parent.parent] {
        let candidate = directory.appending("batamanta-native")
        if FileSystem.exists(candidate) { return candidate }
    }
    return nil
}

extension FileSystem {
    static func exists(_ path: FilePath) -> Bool {
        var info = stat()
        return path.withCString { lstat($0, &info) } == 0
    }
}

extension Progress {
    static func collecting(into sink: @escaping (String, UInt64, UInt64) -> Void) -> Progress {
        Progress(send: sink)
    }

    static var ignored: Progress { Progress { _, _, _ in } }
}

extension RequestContext {
    static var ignored: RequestContext { RequestContext(progress: .ignored) }
}
