/// What the daemon binary was asked to do (`Help.swift` lists the commands).
enum Command {
    case start(arguments: [[UInt8]], timeout: Int)
    case stop(timeout: Int)
    case status
    case pid
    case logs(follow: Bool)
    case remote
    case rpc([UInt8])
    case eval([UInt8])
    case help

    static let defaultStartTimeout = 60
    static let defaultStopTimeout = 30

    /// `arguments` without the program name. No command means `start`.
    static func parse(_ arguments: [[UInt8]]) -> Result<Command, DaemonFailure> {
        guard let name = arguments.first else { return .success(.start(arguments: [], timeout: defaultStartTimeout)) }
        var rest = Array(arguments.dropFirst())
        switch name {
        case Array("start".utf8):
            var appArguments: [[UInt8]] = []
            if let separator = rest.firstIndex(of: Array("--".utf8)) {
                appArguments = Array(rest[(separator + 1)...])
                rest = Array(rest[..<separator])
            }
            return timeout(&rest, default: defaultStartTimeout, command: name).map { .start(arguments: appArguments, timeout: $0) }
        case Array("stop".utf8):
            return timeout(&rest, default: defaultStopTimeout, command: name).map { .stop(timeout: $0) }
        case Array("status".utf8):
            return noMore(rest, command: name, .status)
        case Array("pid".utf8):
            return noMore(rest, command: name, .pid)
        case Array("logs".utf8):
            if rest == [Array("-f".utf8)] || rest == [Array("--follow".utf8)] { return .success(.logs(follow: true)) }
            return noMore(rest, command: name, .logs(follow: false))
        case Array("remote".utf8):
            return noMore(rest, command: name, .remote)
        case Array("rpc".utf8), Array("eval".utf8):
            guard rest.count == 1 else {
                return .failure(.usage(name, Array(" takes exactly one argument, the Elixir expression".utf8)))
            }
            return .success(name == Array("rpc".utf8) ? .rpc(rest[0]) : .eval(rest[0]))
        case Array("help".utf8), Array("--help".utf8), Array("-h".utf8):
            return .success(.help)
        default:
            return .failure(.usage(Array("unknown command '".utf8), name, [UInt8(ascii: "'")]))
        }
    }

    /// Consumes `--timeout N` (seconds, 1 to 86400); nothing else may remain.
    private static func timeout(_ rest: inout [[UInt8]], default value: Int, command: [UInt8]) -> Result<Int, DaemonFailure> {
        var seconds = value
        if rest.count >= 2, rest[0] == Array("--timeout".utf8) {
            guard let parsed = decimalValue(rest[1], maxDigits: 5), parsed >= 1, parsed <= 86_400 else {
                return .failure(.usage(Array("--timeout needs a whole number of seconds from 1 to 86400, got '".utf8), rest[1], [UInt8(ascii: "'")]))
            }
            seconds = Int(parsed)
            rest.removeFirst(2)
        }
        if let extra = rest.first {
            return .failure(.usage(command, Array(": unexpected argument '".utf8), extra, Array("'; the app's own arguments go after --".utf8)))
        }
        return .success(seconds)
    }

    private static func noMore(_ rest: [[UInt8]], command: [UInt8], _ result: Command) -> Result<Command, DaemonFailure> {
        guard let extra = rest.first else { return .success(result) }
        return .failure(.usage(command, Array(": unexpected argument '".utf8), extra, [UInt8(ascii: "'")]))
    }
}
