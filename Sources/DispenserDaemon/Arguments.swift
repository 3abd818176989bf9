/// What the daemon binary was asked to do (`Help.swift` lists the commands).
enum Command {
    case start(arguments: [[UInt8]], timeout: Int)
    case foreground(arguments: [[UInt8]])
    case restart(arguments: [[UInt8]], stopTimeout: Int, startTimeout: Int)
    case stop(timeout: Int)
    case status
    case pid
    case logs(follow: Bool)
    case remote
    case rpc([UInt8])
    case eval([UInt8])
    case version
    case help

    static let defaultStartTimeout = 60
    static let defaultStopTimeout = 30

    /// `arguments` without the program name. No command means `start`.
    static func parse(_ arguments: [[UInt8]]) throws(DaemonFailure) -> Command {
        guard let name = arguments.first else { return .start(arguments: [], timeout: defaultStartTimeout) }
        var rest = Array(arguments.dropFirst())
        switch name {
        case Array("start".utf8):
            let appArguments = separateAppArguments(&rest)
            return .start(arguments: appArguments, timeout: try timeout(&rest, default: defaultStartTimeout, command: name))
        case Array("foreground".utf8):
            let appArguments = separateAppArguments(&rest)
            return try noMore(rest, command: name, .foreground(arguments: appArguments))
        case Array("restart".utf8):
            let appArguments = separateAppArguments(&rest)
            // One --timeout bounds each phase; without it each keeps its own default.
            let given = try timeout(&rest, default: 0, command: name)
            return .restart(arguments: appArguments, stopTimeout: given == 0 ? defaultStopTimeout : given,
                            startTimeout: given == 0 ? defaultStartTimeout : given)
        case Array("stop".utf8):
            return .stop(timeout: try timeout(&rest, default: defaultStopTimeout, command: name))
        case Array("status".utf8):
            return try noMore(rest, command: name, .status)
        case Array("pid".utf8):
            return try noMore(rest, command: name, .pid)
        case Array("logs".utf8):
            if rest == [Array("-f".utf8)] || rest == [Array("--follow".utf8)] { return .logs(follow: true) }
            return try noMore(rest, command: name, .logs(follow: false))
        case Array("remote".utf8):
            return try noMore(rest, command: name, .remote)
        case Array("rpc".utf8), Array("eval".utf8):
            guard rest.count == 1 else {
                throw .usage(name, Array(" takes exactly one argument, the Elixir expression".utf8))
            }
            return name == Array("rpc".utf8) ? .rpc(rest[0]) : .eval(rest[0])
        case Array("version".utf8):
            return try noMore(rest, command: name, .version)
        case Array("help".utf8), Array("--help".utf8), Array("-h".utf8):
            return .help
        default:
            throw .usage(Array("unknown command '".utf8), name, [UInt8(ascii: "'")])
        }
    }

    /// Takes what follows `--` out of `rest`: the app's own arguments.
    private static func separateAppArguments(_ rest: inout [[UInt8]]) -> [[UInt8]] {
        guard let separator = rest.firstIndex(of: Array("--".utf8)) else { return [] }
        defer { rest = Array(rest[..<separator]) }
        return Array(rest[(separator + 1)...])
    }

    /// Consumes `--timeout N` (seconds, 1 to 86400); nothing else may remain.
    private static func timeout(_ rest: inout [[UInt8]], default value: Int, command: [UInt8]) throws(DaemonFailure) -> Int {
        var seconds = value
        if rest.count >= 2, rest[0] == Array("--timeout".utf8) {
            guard let parsed = decimalValue(rest[1], maxDigits: 5), parsed >= 1, parsed <= 86_400 else {
                throw .usage(Array("--timeout needs a whole number of seconds from 1 to 86400, got '".utf8), rest[1], [UInt8(ascii: "'")])
            }
            seconds = Int(parsed)
            rest.removeFirst(2)
        }
        if let extra = rest.first {
            throw .usage(command, Array(": unexpected argument '".utf8), extra, Array("'; the app's own arguments go after --".utf8))
        }
        return seconds
    }

    private static func noMore(_ rest: [[UInt8]], command: [UInt8], _ result: Command) throws(DaemonFailure) -> Command {
        guard let extra = rest.first else { return result }
        throw .usage(command, Array(": unexpected argument '".utf8), extra, [UInt8(ascii: "'")])
    }
}
