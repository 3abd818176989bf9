/// Diagnostics go to stderr: stdout belongs to the port protocol.
enum Diagnostics {
    static func log(_ message: String) {
        // Nowhere is left to report a failure to write to stderr.
        try? FileDescriptor.standard(2, name: "stderr").writeAll(Array("batamanta-native: \(message)\n".utf8))
    }
}
