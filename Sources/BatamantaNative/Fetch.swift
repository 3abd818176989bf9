import BatamantaFormat
import CCurl
import Glibc

/// `:fetch`: downloads a URL to a file, retrying what may be transient and verifying the
/// sha256 when one is given. The output appears only when complete and verified.
enum Fetch {
    static func run(_ arguments: Arguments, _ context: RequestContext) throws(CommandError) -> Term {
        let url = try arguments.string("url")
        let output = try arguments.path("output")
        var expected: [UInt8]?
        if let hex = try arguments.optionalBytes("sha256") {
            guard hex.count == 64, let digest = Hex.decode(hex) else {
                throw .invalidArgument(":fetch sha256 for \(url) must be 64 hex digits, got \"\(String(decoding: hex, as: UTF8.self))\"")
            }
            expected = digest
        }
        var policy = Policy.fromEnvironment
        if arguments.value("retries") != nil {
            policy.retries = Int(try arguments.integer("retries", in: 0...10))
        }
        if arguments.value("max_bytes") != nil {
            policy.limits.maxBytes = UInt64(try arguments.integer("max_bytes", in: 1...Int64.max))
        }
        let result = try fetch(url, to: output, expectedSHA256: expected, policy: policy, context: context)
        return .record(["size": .integer(clamping: result.size), "sha256": .string(Hex.encode(result.sha256))])
    }

    /// An OTP tarball is under 100 MiB; eight times that is room to grow, not room for a
    /// mirror or proxy that never stops sending to fill the disk.
    static let defaultMaxBytes: UInt64 = 1 << 30

    struct Policy: Equatable {
        var limits: HTTPTransfer.Limits
        var retries: Int
        var retryBaseMilliseconds: Int

        /// Tests shorten the timeouts and delays through the environment.
        static var fromEnvironment: Policy {
            Policy(
                limits: HTTPTransfer.Limits(
                    connectTimeoutSeconds: environmentInteger("BATAMANTA_HTTP_CONNECT_TIMEOUT") ?? 15,
                    lowSpeedSeconds: environmentInteger("BATAMANTA_HTTP_LOW_SPEED_TIME") ?? 30,
                    lowSpeedBytes: 1024,
                    maxBytes: defaultMaxBytes),
                retries: 4,
                retryBaseMilliseconds: environmentInteger("BATAMANTA_RETRY_BASE_MS") ?? 500)
        }

        /// Exponential backoff with up to 100% jitter, so parallel builds spread out.
        func delayMilliseconds(beforeRetry attempt: Int) -> Int {
            let base = retryBaseMilliseconds << min(attempt, 10)
            return base + Int.random(in: 0...max(base, 0))
        }
    }

    struct Outcome: Equatable {
        var size: UInt64
        var sha256: [UInt8]
    }

    static func fetch(
        _ url: String, to output: FilePath, expectedSHA256: [UInt8]?, policy: Policy, context: RequestContext
    ) throws(CommandError) -> Outcome {
        let file = try AtomicFile(destination: output)
        let transfer = try HTTPTransfer(url: url, limits: policy.limits, destination: file.descriptor, context: context)
        var attempt = 0
        while true {
            if attempt > 0 { try file.descriptor.truncate() }
            switch classify(transfer.perform(), url: url, limits: policy.limits) {
            case .success:
                break
            case .permanent(let error):
                throw error
            case .transient(let error):
                guard attempt < policy.retries else {
                    throw CommandError(error.code, error.message + " (gave up after \(attempt + 1) attempts)")
                }
                context.progress.notice(stage: "retry", done: UInt64(attempt + 1), total: UInt64(policy.retries + 1), message: error.message)
                if context.cancellation.wait(milliseconds: Int32(clamping: policy.delayMilliseconds(beforeRetry: attempt))) {
                    throw CommandError(.ioError, "the port closed; download of \(url) abandoned")
                }
                attempt += 1
                continue
            }
            break
        }
        var hash = transfer.hash
        let actual = hash.finalize()
        if let expectedSHA256, actual != expectedSHA256 {
            throw CommandError(.checksumMismatch,
                "checksum mismatch for \(url): expected sha256 \(Hex.encode(expectedSHA256)), got \(Hex.encode(actual)); the download was deleted")
        }
        try file.commit(mode: 0o644)
        return Outcome(size: transfer.received, sha256: actual)
    }

    enum Classification: Equatable {
        case success
        case transient(CommandError)
        case permanent(CommandError)
    }

    /// Connection failures, timeouts, 5xx and 429 may pass; anything else will not. A name
    /// that does not resolve means no network or a typo, neither of which a few seconds of
    /// backoff fixes, and retrying it made every offline build wait for nothing.
    static func classify(_ outcome: HTTPTransfer.Outcome, url: String, limits: HTTPTransfer.Limits) -> Classification {
        switch outcome {
        case .writeFailed(let error):
            return .permanent(error)
        case .tooLarge:
            return .permanent(tooLarge(url, limits))
        case .completed(let status):
            switch status {
            case 0, 200..<300: return .success
            case 404, 410: return .permanent(CommandError(.notFound, "\(url) was not found (HTTP \(status))"))
            case 429, 500..<600: return .transient(CommandError(.httpError, "\(url) answered HTTP \(status)"))
            default: return .permanent(CommandError(.httpError, "\(url) answered HTTP \(status)"))
            }
        case .failed(let code, let message):
            switch CURLcode(rawValue: UInt32(code)) {
            case CURLE_OPERATION_TIMEDOUT:
                return .transient(CommandError(.timeout,
                    "download of \(url) timed out (\(message)); connect timeout \(limits.connectTimeoutSeconds) s, "
                    + "abort below \(limits.lowSpeedBytes) B/s for \(limits.lowSpeedSeconds) s"))
            case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
                return .permanent(CommandError(.httpError, "download of \(url) failed: \(message)"))
            case CURLE_COULDNT_CONNECT, CURLE_PARTIAL_FILE,
                 CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_SSL_CONNECT_ERROR, CURLE_HTTP2,
                 CURLE_HTTP2_STREAM:
                return .transient(CommandError(.httpError, "download of \(url) failed: \(message)"))
            case CURLE_FILESIZE_EXCEEDED:
                return .permanent(tooLarge(url, limits))
            case CURLE_FILE_COULDNT_READ_FILE:
                return .permanent(CommandError(.notFound, "\(url) was not found: \(message)"))
            case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
                return .permanent(CommandError(.invalidArgument, "cannot download \(url): \(message); use an http(s):// or file:// URL"))
            default:
                return .permanent(CommandError(.httpError, "download of \(url) failed: \(message)"))
            }
        }
    }

    static func tooLarge(_ url: String, _ limits: HTTPTransfer.Limits) -> CommandError {
        CommandError(.httpError,
            "download of \(url) stopped: it is larger than the limit of \(limits.maxBytes) bytes; the partial file was deleted")
    }

    /// A non-negative integer from the environment, capped at an hour's worth so a typo
    /// cannot overflow the backoff arithmetic.
    static func environmentInteger(_ name: String) -> Int? {
        guard let value = getenv(name), let number = Int(String(cString: value)), number >= 0 else { return nil }
        return min(number, 3_600_000)
    }
}
