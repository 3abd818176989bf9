import Glibc
import Testing
@testable import BatamantaNative

/// The built `batamanta-native` driven over pipes exactly as a `{packet, 4}` port would.
final class HelperProcess {
    let pid: pid_t
    let port: PortIO
    private let stdinFD: Int32
    private var stdinOpen = true

    init(_ executable: FilePath) throws {
        var toChild: [Int32] = [-1, -1]
        var fromChild: [Int32] = [-1, -1]
        guard pipe(&toChild) == 0, pipe(&fromChild) == 0 else { throw Errno.current }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        posix_spawn_file_actions_addclose(&actions, toChild[1])
        posix_spawn_file_actions_addclose(&actions, fromChild[0])
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(executable.description), nil]
        defer { argv.forEach { free($0) } }
        let status = executable.withCString { posix_spawn(&pid, $0, &actions, nil, argv, environ) }
        close(toChild[0])
        close(fromChild[1])
        guard status == 0 else { throw Errno(rawValue: status) }
        self.pid = pid
        stdinFD = toChild[1]
        port = PortIO(input: .adopt(fromChild[0], path: FilePath("helper stdout")), output: .adopt(toChild[1], path: FilePath("helper stdin")))
    }

    func request(_ term: Term) throws -> Term {
        try port.writePacket(try #require(TermEncoder.encode(term)))
        return try reply()
    }

    func reply() throws -> Term {
        guard case .packet(let bytes) = port.readPacket() else { throw CommandError(.ioError, "helper sent no reply") }
        return try TermDecoder.decode(bytes)
    }

    /// Closes the helper's stdin and returns its exit status.
    func finish() -> Int32? {
        shutdownInput()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status & 0x7f == 0 ? (status >> 8) & 0xff : nil
    }

    private func shutdownInput() {
        // The PortIO owns the fd; dup2 /dev/null over it ends the helper's input.
        let null = open("/dev/null", O_RDONLY)
        dup2(null, stdinFD)
        close(null)
    }
}

@Suite struct HelperProcessTests {
    @Test func malformedPacketThenPingThenEOF() throws {
        let executable = try #require(helperExecutable, "batamanta-native was not built next to the tests")
        let helper = try HelperProcess(executable)
        try helper.port.writePacket([1, 2, 3])
        let error = try helper.reply()
        guard case .tuple(let parts) = error, parts.count == 2, case .tuple(let body) = parts[1] else {
            Issue.record("unexpected reply \(error)")
            return
        }
        #expect(parts[0] == .integer(0))
        #expect(body.first == .atom("error") && body.dropFirst().first == .atom("bad_request"))

        let pong = try helper.request(.tuple([.integer(7), .atom("ping"), .map([])]))
        #expect(pong == .tuple([.integer(7), .tuple([.atom("ok"), .record(["protocol": .integer(1), "version": .string(Ping.helperVersion)])])]))

        let unknown = try helper.request(.tuple([.integer(8), .atom("frobnicate"), .map([])]))
        #expect(unknown.describedContains("unknown_command"))
        let missing = try helper.request(.tuple([.integer(9), .atom("pack"), .map([])]))
        #expect(missing.describedContains("invalid_argument"))
        let notARequest = try helper.request(.list([.integer(1)]))
        #expect(notARequest.describedContains("bad_request"))
        #expect(try helper.request(.tuple([.integer(10), .atom("ping"), .map([])])).describedContains("protocol"))

        #expect(helper.finish() == 0)
    }
}

extension Term {
    func describedContains(_ text: String) -> Bool {
        String(describing: self).contains(text)
    }
}
