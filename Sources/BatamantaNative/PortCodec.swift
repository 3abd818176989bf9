/// Requests and replies of docs/PROTOCOL.md, as terms.
struct Request {
    var id: Int64
    var command: String
    var arguments: Arguments
}

enum Reply {
    case ok(Term)
    case error(CommandError)
    case progress(stage: String, done: UInt64, total: UInt64, message: String? = nil)
}

enum PortCodec {
    /// A request, or the error reply to send back and the id to send it under.
    static func decodeRequest(_ packet: [UInt8]) -> Result<Request, RequestError> {
        let term: Term
        do {
            term = try TermDecoder.decode(packet)
        } catch {
            return .failure(RequestError(id: 0, error: CommandError(.badRequest, "undecodable request: \(error.message)")))
        }
        guard case .tuple(let elements) = term, elements.count == 3 else {
            return .failure(RequestError(id: requestID(in: term) ?? 0, error: CommandError(
                .badRequest, "a request must be {id, command_atom, args_map}")))
        }
        guard case .integer(let id) = elements[0], id > 0 else {
            return .failure(RequestError(id: 0, error: CommandError(.badRequest, "the request id must be a positive integer")))
        }
        guard case .atom(let command) = elements[1] else {
            return .failure(RequestError(id: id, error: CommandError(.badRequest, "the command must be an atom")))
        }
        guard case .map = elements[2] else {
            return .failure(RequestError(id: id, error: CommandError(.badRequest, "the arguments of :\(command) must be a map")))
        }
        return .success(Request(id: id, command: command, arguments: Arguments(elements[2], command: command)))
    }

    static func encodeReply(_ reply: Reply, id: Int64) -> [UInt8]? {
        let body: Term
        switch reply {
        case .ok(let result):
            body = .tuple([.atom("ok"), result])
        case .error(let error):
            body = .tuple([.atom("error"), .atom(error.code.rawValue), .string(error.message)])
        case .progress(let stage, let done, let total, let message):
            var fields: [(String, Term)] = [("stage", .string(stage)), ("done", .integer(clamping: done)), ("total", .integer(clamping: total))]
            if let message { fields.append(("message", .string(message))) }
            body = .tuple([.atom("progress"), .map(fields.map { Term.MapEntry(key: .atom($0.0), value: $0.1) })])
        }
        return TermEncoder.encode(.tuple([.integer(id), body]))
    }

    private static func requestID(in term: Term) -> Int64? {
        guard case .tuple(let elements) = term, case .integer(let id)? = elements.first, id > 0 else { return nil }
        return id
    }
}

struct RequestError: Error {
    var id: Int64
    var error: CommandError
}
