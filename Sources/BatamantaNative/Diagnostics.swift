import Glibc

/// Diagnostics go to stderr: stdout belongs to the port protocol.
enum Diagnostics {
    static func log(_ message: String) {
        let line = Array("batamanta-native: \(message)\n".utf8)
        line.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
