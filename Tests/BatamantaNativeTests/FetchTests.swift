import BatamantaFormat
import Glibc
import Testing
@testable import BatamantaNative

/// A throwaway HTTP server on 127.0.0.1 whose paths each misbehave in one way.
final class LocalHTTPServer {
    static let script = #"""
        import http.server, socketserver, sys, time, threading
        BODY = b"batamanta test payload\n" * 4096
        hits = {}
        lock = threading.Lock()
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *args): pass
            def send_body(self, status, body, length=None):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
            def do_GET(self):
                with lock:
                    hits[self.path] = hits.get(self.path, 0) + 1
                    count = hits[self.path]
                if self.path == "/ok":
                    self.send_body(200, BODY)
                elif self.path.startswith("/flaky"):
                    self.send_body(500 if count <= 2 else 200, b"busy" if count <= 2 else BODY)
                elif self.path == "/throttled":
                    self.send_body(429 if count == 1 else 200, b"slow down" if count == 1 else BODY)
                elif self.path == "/always500":
                    self.send_body(503, b"down")
                elif self.path == "/forbidden":
                    self.send_body(403, b"no")
                elif self.path == "/truncated":
                    self.send_body(200, BODY[:1000], length=len(BODY))
                    self.close_connection = True
                elif self.path == "/stall":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(BODY)))
                    self.end_headers()
                    self.wfile.write(BODY[:100])
                    self.wfile.flush()
                    time.sleep(30)
                elif self.path == "/endless":
                    # No Content-Length: the body ends when the connection does, here never.
                    self.send_response(200)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    try:
                        while True:
                            self.wfile.write(BODY)
                    except OSError:
                        pass
                    self.close_connection = True
                elif self.path == "/hits":
                    self.send_body(200, repr(hits).encode())
                else:
                    self.send_body(404, b"not here")
        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
        server = Server(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """#

    let directory = TemporaryDirectory()
    private(set) var port = 0
    private var pid: pid_t = 0

    init() throws {
        try writeFile(directory("server.py"), Self.script)
        // The server keeps running in the background; its pid and port come back first.
        let started = shell("python3 '\(directory)/server.py' > '\(directory)/port' 2>&1 & echo $!; "
            + "for i in $(seq 100); do [ -s '\(directory)/port' ] && break; sleep 0.05; done; cat '\(directory)/port'")
        let lines = started.output.split(separator: "\n")
        guard lines.count >= 2, let pid = Int32(lines[0]), let port = Int(lines[1]) else {
            throw CommandError(.ioError, "test HTTP server did not start: \(started.output)")
        }
        self.pid = pid
        self.port = port
    }

    deinit {
        kill(pid, SIGKILL)
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }
}

@Suite(.serialized) struct FetchTests {
    static let body = Array(String(repeating: "batamanta test payload\n", count: 4096).utf8)
    static let fast = Fetch.Policy(
        limits: .init(connectTimeoutSeconds: 2, lowSpeedSeconds: 1, lowSpeedBytes: 1024, maxBytes: 1 << 20), retries: 4, retryBaseMilliseconds: 10)

    static var bodyDigest: [UInt8] {
        var hash = SHA256()
        hash.update(body)
        return hash.finalize()
    }

    @Test func downloadsAndVerifies() throws {
        let server = try LocalHTTPServer()
        let work = TemporaryDirectory()
        var reports: [UInt64] = []
        let result = try Fetch.fetch(server.url("/ok"), to: work("ok"), expectedSHA256: Self.bodyDigest, policy: Self.fast,
                                     context: RequestContext(progress: .collecting { stage, done, _ in #expect(stage == "download"); reports.append(done) }))
        #expect(result == Fetch.Outcome(size: UInt64(Self.body.count), sha256: Self.bodyDigest))
        #expect(try readFile(work("ok")) == Self.body)
        #expect(reports.last == UInt64(Self.body.count))
        #expect(shell("ls -A '\(work)'").output == "ok\n")
    }

    @Test func retriesServerErrorsThenSucceeds() throws {
        let server = try LocalHTTPServer()
        let work = TemporaryDirectory()
        let result = try Fetch.fetch(server.url("/flaky"), to: work("f"), expectedSHA256: nil, policy: Self.fast, context: .ignored)
        #expect(result.sha256 == Self.bodyDigest)
        _ = try Fetch.fetch(server.url("/throttled"), to: work("t"), expectedSHA256: nil, policy: Self.fast, context: .ignored)
        let hits = shell("curl -s \(server.url("/hits"))").output
        #expect(hits.contains("'/flaky': 3") && hits.contains("'/throttled': 2"), "\(hits)")
    }

    @Test func retriesAreNoticesOverThePort() throws {
        let server = try LocalHTTPServer()
        let work = TemporaryDirectory()
        var notices: [String] = []
        let progress = Progress(send: { _, _, _ in }, notice: { stage, done, total, message in
            notices.append("\(stage) \(done)/\(total) \(message)")
        })
        _ = try Fetch.fetch(server.url("/flaky-notice"), to: work("f"), expectedSHA256: nil, policy: Self.fast, context: RequestContext(progress: progress))
        #expect(notices == [
            "retry 1/5 \(server.url("/flaky-notice")) answered HTTP 500",
            "retry 2/5 \(server.url("/flaky-notice")) answered HTTP 500",
        ])
    }

    @Test func anUnresolvableHostIsNotRetried() throws {
        let work = TemporaryDirectory()
        var notices = 0
        let progress = Progress(send: { _, _, _ in }, notice: { _, _, _, _ in notices += 1 })
        let slow = Fetch.Policy(limits: Self.fast.limits, retries: 4, retryBaseMilliseconds: 2000)
        let started = MonotonicClock.system.now()
        #expect { try Fetch.fetch("http://batamanta-test.invalid/x", to: work("x"), expectedSHA256: nil, policy: slow, context: RequestContext(progress: progress)) }
            throws: { ($0 as? CommandError)?.code == .httpError && ($0 as? CommandError)?.message.contains("batamanta-test.invalid") == true }
        #expect(notices == 0)
        #expect(MonotonicClock.system.now() - started < 2_000_000_000)
    }

    @Test func givesUpAfterFourRetries() throws {
        let server = try LocalHTTPServer()
        let work = TemporaryDirectory()
        #expect { try Fetch.fetch(server.url("/always500"), to: work("x"), expectedSHA256: nil, policy: Self.fast, context: .ignored) }
            throws: { error in
                let error = error as? CommandError
                return error?.code == .httpError && error?.message.contains("503") == true && error?.message.contains("5 attempts") == true
            }
        #expect(shell("curl -s \(server.url("/hits"))").output.contains("'/always500': 5"))
        #expect(shell("ls -A '\(work)'").output.isEmpty)
    }

    @Test func notFoundIsNotRetried() throws {
        let server = try LocalHTTPServer()
        let work = TemporaryDirectory()
        #expect { try Fetch.fetch(server.url("/OTP-99.tar.gz"), to: work("x"), expectedSHA256: nil, policy: Self.fast, context: .ignored) }
            throws: { ($0 as? CommandError)?.code == .notFound && ($0 as? CommandError)?.message.contains("/OTP-99.tar.gz") == true }
        #expect { try Fetch.fetch(server.url("/forbidden"), to: work("x"), expectedSHA256: nil, policy: Self.fast, context: .ignored) }
            throws: { ($0 as? CommandError)?.code == .httpError }
        let hits = shell("curl -s \(server.url("/hits"))").output
        #expect(hits.contains("'/OTP-99.tar.gz': 1") && hits.contains("'/forbidden': 1"), "\(hits)")
        #expect(shell("ls -A '\(work)'").output.isEmpty)
    }

    @Test func truncatedBodyFails() throws {
        let server = try LocalHTTPServer()
        let work = TemporaryDirectory()
        #expect { try Fetch.fetch(server.url("/truncated"), to: work("x"), expectedSHA256: nil, policy: Self.fast, context: .ignored) }
            throws: { ($0 as? CommandError)?.code == .httpError && ($0 as? CommandError)?.message.contains("/truncated") == true }
        #expect(!FileSystem.exists(work("x")))
        #expect(shell("ls -A '\(work)'").output.isEmpty)
    }

    @Test func checksumMismatchDeletesTheDownload() throws {
        let server = try LocalHTTPServer()
        let work = TemporaryDirectory()
        let wrong = [UInt8](repeating: 0xab, count: 32)
        #expect { try Fetch.fetch(server.url("/ok"), to: work("x"), expectedSHA256: wrong, policy: Self.fast, context: .ignored) }
            throws: { error in
                let message = (error as? CommandError)?.message ?? ""
                return (error as? CommandError)?.code == .checksumMismatch && message.contains(server.url("/ok"))
                    && message.contains(Hex.encode(wrong)) && message.contains(Hex.encode(Self.bodyDigest))
            }
        #expect(shell("ls -A '\(work)'").output.isEmpty)
    }

    @Test func stalledServerTimesOut() throws {
        let server = try LocalHTTPServer()
        let work = TemporaryDirectory()
        let started = MonotonicClock.system.now()
        let once = Fetch.Policy(limits: Self.fast.limits, retries: 1, retryBaseMilliseconds: 10)
        #expect { try Fetch.fetch(server.url("/stall"), to: work("x"), expectedSHA256: nil, policy: once, context: .ignored) }
            throws: { ($0 as? CommandError)?.code == .timeout }
        #expect(MonotonicClock.system.now() - started < 10_000_000_000)
        #expect(shell("ls -A '\(work)'").output.isEmpty)
    }

    @Test func refusedConnectionIsRetriedThenReported() throws {
        let work = TemporaryDirectory()
        #expect { try Fetch.fetch("http://127.0.0.1:9/x", to: work("x"), expectedSHA256: nil, policy: Self.fast, context: .ignored) }
            throws: { ($0 as? CommandError)?.code == .httpError && ($0 as? CommandError)?.message.contains("127.0.0.1:9") == true }
    }

    @Test func aBodyOverTheLimitIsRefusedAndNotRetried() throws {
        let server = try LocalHTTPServer()
        let work = TemporaryDirectory()
        var small = Self.fast
        small.limits.maxBytes = UInt64(Self.body.count - 1)
        for path in ["/ok", "/endless"] {
            let started = MonotonicClock.system.now()
            #expect { try Fetch.fetch(server.url(path), to: work("x"), expectedSHA256: nil, policy: path == "/ok" ? small : Self.fast, context: .ignored) }
                throws: { error in
                    let message = (error as? CommandError)?.message ?? ""
                    return message.contains(server.url(path)) && message.contains("larger than the limit of")
                }
            #expect(MonotonicClock.system.now() - started < 10_000_000_000)
            #expect(shell("ls -A '\(work)'").output.isEmpty)
        }
        let hits = shell("curl -s \(server.url("/hits"))").output
        #expect(hits.contains("'/ok': 1") && hits.contains("'/endless': 1"), "\(hits)")
        #expect(Fetch.Policy.fromEnvironment.limits.maxBytes == Fetch.defaultMaxBytes)
        let zero = Arguments(.record(["url": .string("http://x"), "output": .string("/tmp/x"), "max_bytes": .integer(0)]), command: "fetch")
        #expect { try Fetch.run(zero, .ignored) } throws: { ($0 as? CommandError)?.code == .invalidArgument }
    }

    @Test func environmentShortensLimits() throws {
        setenv("BATAMANTA_HTTP_CONNECT_TIMEOUT", "3", 1)
        setenv("BATAMANTA_HTTP_LOW_SPEED_TIME", "2", 1)
        setenv("BATAMANTA_RETRY_BASE_MS", "7", 1)
        defer { ["BATAMANTA_HTTP_CONNECT_TIMEOUT", "BATAMANTA_HTTP_LOW_SPEED_TIME", "BATAMANTA_RETRY_BASE_MS"].forEach { (name: String) in unsetenv(name) } }
        let policy = Fetch.Policy.fromEnvironment
        #expect(policy.limits.connectTimeoutSeconds == 3 && policy.limits.lowSpeedSeconds == 2 && policy.retryBaseMilliseconds == 7)
        #expect((7...14).contains(policy.delayMilliseconds(beforeRetry: 0)))
        #expect((28...56).contains(policy.delayMilliseconds(beforeRetry: 2)))
        let bad = Arguments(.record(["url": .string("http://x"), "output": .string("/tmp/x"), "sha256": .string("zz")]), command: "fetch")
        #expect { try Fetch.run(bad, .ignored) } throws: { ($0 as? CommandError)?.code == .invalidArgument }
    }
}
