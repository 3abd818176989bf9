import Glibc

/// Serves requests one at a time until stdin ends.
struct Server {
    typealias Command = @Sendable (Arguments, RequestContext) throws(CommandError) -> Term

    static let commands: [(name: String, run: Command)] = [
        ("ping", Ping.run),
        ("host_info", HostInfo.run),
        ("sanitize_env", SanitizeEnv.run),
        ("libc_requirement", LibcRequirement.run),
        ("pack", Pack.run),
        ("assemble", Assemble.run),
        ("inspect", Inspect.run),
        ("fetch", Fetch.run),
        ("lock", Lock.run),
        ("unlock", Lock.unlock),
        ("unpack", Unpack.run),
    ]

    static func command(named name: String) -> Command? {
        commands.first { $0.name == name }?.run
    }

    let port: PortIO
    /// Watches the port itself, so every request is cancelled when it hangs up.
    let cancellation: Cancellation

    /// Returns the process exit status: 0 on a clean end of input.
    func run() -> Int32 {
        while true {
            switch port.readPacket() {
            case .endOfInput:
                return 0
            case .broken(let reason):
                Diagnostics.log("stopping: \(reason)")
                return 1
            case .oversized(let length):
                let error = CommandError(.badRequest, "packet of \(length) bytes exceeds the \(PortIO.maximumPacketSize)-byte limit")
                guard send(.error(error), id: 0) else { return 1 }
            case .packet(let packet):
                guard serve(packet) else { return 1 }
            }
        }
    }

    /// Returns false when replies can no longer be written.
    func serve(_ packet: [UInt8]) -> Bool {
        switch PortCodec.decodeRequest(packet) {
        case .failure(let failure):
            return send(.error(failure.error), id: failure.id)
        case .success(let request):
            let progress = Progress(
                clock: cancellation.clock,
                send: { stage, done, total in
                    _ = send(.progress(stage: stage, done: done, total: total), id: request.id)
                },
                notice: { stage, done, total, message in
                    _ = send(.progress(stage: stage, done: done, total: total, message: message), id: request.id)
                })
            return send(Server.execute(request, context: RequestContext(progress: progress, cancellation: cancellation, clock: cancellation.clock)), id: request.id)
        }
    }

    static func execute(_ request: Request, context: RequestContext) -> Reply {
        guard let command = command(named: request.command) else {
            let known = commands.map { ":" + $0.name }.joined(separator: ", ")
            return .error(CommandError(.unknownCommand, "unknown command :\(request.command); known commands: \(known)"))
        }
        do {
            return .ok(try command(request.arguments, context))
        } catch {
            return .error(error)
        }
    }

    private func send(_ reply: Reply, id: Int64) -> Bool {
        guard let bytes = PortCodec.encodeReply(reply, id: id) else {
            Diagnostics.log("could not encode the reply to request \(id)")
            return false
        }
        do {
            try port.writePacket(bytes)
            return true
        } catch {
            Diagnostics.log("cannot write to the port: \(error.message)")
            return false
        }
    }
}
