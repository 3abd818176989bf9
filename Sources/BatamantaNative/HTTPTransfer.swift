import BatamantaFormat
import CCurl

/// One libcurl transfer into a file descriptor, hashing as it writes. Retry policy lives
/// in `Fetch`; this only reports what happened.
final class HTTPTransfer {
    struct Limits: Equatable {
        var connectTimeoutSeconds: Int
        /// Abort when fewer than `lowSpeedBytes` per second arrive for this long.
        var lowSpeedSeconds: Int
        var lowSpeedBytes: Int
        /// The most bytes a body may have. libcurl refuses a larger Content-Length up
        /// front; a body without one is cut off by `write` when it passes the limit.
        var maxBytes: UInt64
    }

    enum Outcome: Equatable {
        /// The transfer ended; `status` is the HTTP status (0 for file:// URLs).
        case completed(status: Int)
        /// libcurl gave up: the CURLcode and its message.
        case failed(code: Int32, message: String)
        /// Writing the body failed.
        case writeFailed(CommandError)
        /// The body passed `Limits.maxBytes` while streaming.
        case tooLarge
    }

    private let handle: UnsafeMutableRawPointer
    private let destination: FileDescriptor
    private let progress: Progress
    private let cancellation: Cancellation
    private(set) var hash = SHA256()
    private(set) var received: UInt64 = 0
    private let maxBytes: UInt64
    private var writeError: CommandError?
    private var overLimit = false
    /// libcurl keeps this pointer for the handle's lifetime, so it is not a Swift array.
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(BM_CURL_ERROR_SIZE))

    private static let initialised: Bool = bm_curl_global_init_default() == CURLE_OK

    init(url: String, limits: Limits, destination: FileDescriptor, context: RequestContext) throws(CommandError) {
        errorBuffer.initialize(repeating: 0, count: Int(BM_CURL_ERROR_SIZE))
        guard HTTPTransfer.initialised, let handle = curl_easy_init() else {
            errorBuffer.deallocate()
            throw CommandError(.httpError, "libcurl failed to initialise; cannot download \(url)")
        }
        self.handle = handle
        self.destination = destination
        progress = context.progress
        cancellation = context.cancellation
        maxBytes = limits.maxBytes
        let context = Unmanaged.passUnretained(self).toOpaque()
        var status = bm_curl_setopt_string(handle, CURLOPT_URL, url)
        for (option, value) in [
            (CURLOPT_FOLLOWLOCATION, 1), (CURLOPT_MAXREDIRS, 10), (CURLOPT_NOSIGNAL, 1), (CURLOPT_NOPROGRESS, 0),
            (CURLOPT_CONNECTTIMEOUT, limits.connectTimeoutSeconds),
            (CURLOPT_LOW_SPEED_TIME, limits.lowSpeedSeconds), (CURLOPT_LOW_SPEED_LIMIT, limits.lowSpeedBytes),
        ] where status == CURLE_OK {
            status = bm_curl_setopt_long(handle, option, value)
        }
        for (option, value) in [
            (CURLOPT_PROTOCOLS_STR, "http,https,file"), (CURLOPT_REDIR_PROTOCOLS_STR, "http,https"),
            (CURLOPT_USERAGENT, "batamanta-native/\(Ping.helperVersion)"),
        ] where status == CURLE_OK {
            status = bm_curl_setopt_string(handle, option, value)
        }
        if status == CURLE_OK {
            status = bm_curl_setopt_offset(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(clamping: limits.maxBytes))
        }
        if status == CURLE_OK { status = bm_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context) }
        if status == CURLE_OK { status = bm_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context) }
        if status == CURLE_OK { status = bm_curl_setopt_write_function(handle, HTTPTransfer.write) }
        if status == CURLE_OK { status = bm_curl_setopt_xferinfo_function(handle, HTTPTransfer.report) }
        if status == CURLE_OK {
            status = bm_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        }
        guard status == CURLE_OK else {
            curl_easy_cleanup(handle)
            errorBuffer.deallocate()
            throw CommandError(.invalidArgument, "libcurl refused the settings for \(url): \(String(cString: curl_easy_strerror(status)))")
        }
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Runs the transfer once, from the start of `destination`.
    func perform() -> Outcome {
        hash = SHA256()
        received = 0
        writeError = nil
        overLimit = false
        errorBuffer[0] = 0
        let code = curl_easy_perform(handle)
        if let writeError { return .writeFailed(writeError) }
        if overLimit { return .tooLarge }
        guard code == CURLE_OK else {
            let detail = String(cString: errorBuffer)
            return .failed(code: Int32(code.rawValue), message: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
        }
        var status = 0
        _ = bm_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .completed(status: status)
    }

    private static let write: bm_curl_write_callback = { data, size, count, context in
        guard let context else { return 0 }
        let transfer = Unmanaged<HTTPTransfer>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        guard length > 0, let data else { return length }
        guard transfer.received + UInt64(length) <= transfer.maxBytes else {
            transfer.overLimit = true
            return 0
        }
        let bytes = UnsafeRawBufferPointer(start: data, count: length)
        do throws(CommandError) {
            try transfer.destination.writeAll(bytes)
        } catch {
            transfer.writeError = error
            return 0
        }
        transfer.hash.update(bytes)
        transfer.received += UInt64(length)
        return length
    }

    private static let report: bm_curl_xferinfo_callback = { context, total, now, _, _ in
        guard let context else { return 0 }
        let transfer = Unmanaged<HTTPTransfer>.fromOpaque(context).takeUnretainedValue()
        // Nobody is waiting for this download any more; a non-zero return aborts it.
        if transfer.cancellation.isRequested { return 1 }
        guard now > 0 else { return 0 }
        // An error page's bytes are not download progress.
        var status = 0
        _ = bm_curl_getinfo_long(transfer.handle, CURLINFO_RESPONSE_CODE, &status)
        if status == 0 || (200..<300).contains(status) {
            transfer.progress.report(stage: "download", done: UInt64(now), total: UInt64(max(total, 0)))
        }
        return 0
    }
}
