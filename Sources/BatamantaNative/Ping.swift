/// `:ping`: proves the helper is alive and which protocol it speaks.
enum Ping {
    static let protocolVersion = 1
    static let helperVersion = "0.1.0"

    static func run(_ arguments: Arguments, _ context: RequestContext) throws(CommandError) -> Term {
        .record(["protocol": .integer(clamping: protocolVersion), "version": .string(helperVersion)])
    }
}
