import Testing
@testable import BatamantaNative

@Suite struct TermCodecTests {
    /// Each Erlang expression with the Term it must decode to.
    static let fixtures: [(erlang: String, term: Term)] = [
        ("ok", .atom("ok")),
        ("list_to_atom([104,233,108,108,111])", .atom("héllo")),
        ("list_to_atom([10003])", .atom("✓")),
        ("0", .integer(0)),
        ("255", .integer(255)),
        ("256", .integer(256)),
        ("-1", .integer(-1)),
        ("2147483647", .integer(2_147_483_647)),
        ("-2147483648", .integer(-2_147_483_648)),
        ("9223372036854775807", .integer(.max)),
        ("-9223372036854775808", .integer(.min)),
        ("18446744073709551616", .bigInteger(isNegative: false, magnitude: [0, 0, 0, 0, 0, 0, 0, 0, 1])),
        ("-1180591620717411303424", .bigInteger(isNegative: true, magnitude: [0, 0, 0, 0, 0, 0, 0, 0, 0x40])),
        ("3.14159", .float(3.14159)),
        ("-2.5e-300", .float(-2.5e-300)),
        ("<<>>", .binary([])),
        ("<<1,2,3>>", .binary([1, 2, 3])),
        ("list_to_binary([104,195,169])", .binary([104, 195, 169])),
        ("[]", .list([])),
        ("[1,2,3]", .charList([1, 2, 3])),
        ("[1,300]", .list([.integer(1), .integer(300)])),
        ("[ok,<<\"x\">>]", .list([.atom("ok"), .binary([120])])),
        ("{}", .tuple([])),
        ("{1,ok,<<\"a\">>}", .tuple([.integer(1), .atom("ok"), .binary([97])])),
        ("list_to_tuple(lists:seq(1,300))", .tuple((1...300).map { .integer(Int64($0)) })),
        ("#{}", .map([])),
        ("#{a => 1, b => [true]}", .map([
            Term.MapEntry(key: .atom("a"), value: .integer(1)),
            Term.MapEntry(key: .atom("b"), value: .list([.atom("true")])),
        ])),
        ("{7,ping,#{root => <<\"/\">>}}", .tuple([.integer(7), .atom("ping"), .record(["root": .string("/")])])),
    ]

    @Test func roundTripsEveryTermType() throws {
        for (_, term) in Self.fixtures {
            let bytes = try #require(TermEncoder.encode(term))
            #expect(try TermDecoder.decode(bytes) == term)
        }
    }

    /// OTP writes atoms with tags libei does not (100 vs 119), so both directions are
    /// checked against a real `erl`.
    @Test func agreesWithErlang() throws {
        let ours = try Self.fixtures.map { try #require(TermEncoder.encode($0.term)) }
        let terms = Self.fixtures.map(\.erlang).joined(separator: ", ")
        let encoded = ours.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ", ")
        let script = """
            Terms = [\(terms)], Ours = [\(encoded)],
            lists:foreach(fun({T, O}) ->
                io:format("~w ~w~n", [binary_to_list(term_to_binary(T)), binary_to_term(list_to_binary(O)) =:= T])
            end, lists:zip(Terms, Ours)), halt().
            """
        let result = shell("erl -noshell -eval '\(script)'")
        try #require(result.status == 0, "erl failed: \(result.output)")
        let lines = result.output.split(separator: "\n")
        try #require(lines.count == Self.fixtures.count, "\(result.output)")
        for (line, fixture) in zip(lines, Self.fixtures) {
            let parts = line.split(separator: " ")
            let bytes = parts[0].dropFirst().dropLast().split(separator: ",").compactMap { UInt8($0) }
            #expect(try TermDecoder.decode(bytes) == fixture.term, "decoding erl's \(fixture.erlang)")
            #expect(parts[1] == "true", "erl decoding our \(fixture.erlang)")
        }
    }

    @Test func rejectsEveryTruncation() throws {
        let request = Term.tuple([.integer(1), .atom("pack"), .record([
            "source": .string("/tmp/x"), "level": .integer(19), "list": .list([.float(1.5), .charList([1, 2])]),
        ])])
        let bytes = try #require(TermEncoder.encode(request))
        for length in 0..<bytes.count {
            #expect(throws: TermDecodingError.self) { try TermDecoder.decode(Array(bytes[..<length])) }
        }
        #expect(throws: TermDecodingError.self) { try TermDecoder.decode(bytes + [0]) }
    }

    @Test func rejectsHostileLengthsAndShapes() {
        let hostile: [[UInt8]] = [
            [131, 109, 0x7f, 0xff, 0xff, 0xff, 1, 2],       // binary claiming 2 GiB
            [131, 108, 0xff, 0xff, 0xff, 0xff, 97, 1],      // list claiming 4G elements
            [131, 108, 0, 0, 0, 1, 97, 1, 97, 2],           // improper list [1 | 2]
            [131, 107, 0xff, 0xff, 1],                      // string claiming 64 KiB
            [131, 110, 0xff, 0],                            // small big with 255 digits missing
            [131, 119, 200, 97],                            // atom claiming 200 bytes
            [131, 88, 119, 1, 97, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], // a pid
            [131, 77, 0, 0, 0, 1, 3, 0xff],                 // a bitstring
            [130, 97, 1],                                   // wrong version byte
            [131],
        ]
        for bytes in hostile {
            #expect(throws: TermDecodingError.self) { try TermDecoder.decode(bytes) }
        }
    }

    @Test func rejectsDeepNesting() throws {
        var term = Term.list([])
        for _ in 0..<1000 { term = .list([term]) }
        let bytes = try #require(TermEncoder.encode(term))
        #expect(throws: TermDecodingError.self) { try TermDecoder.decode(bytes) }
    }

    @Test func survivesRandomBytes() throws {
        var generator = SystemRandomNumberGenerator()
        let tags: [UInt8] = [97, 98, 70, 100, 104, 105, 106, 107, 108, 109, 110, 111, 116, 118, 119]
        for _ in 0..<20_000 {
            var bytes: [UInt8] = [131, tags.randomElement(using: &generator)!]
            for _ in 0..<Int.random(in: 0..<24, using: &generator) {
                bytes.append(Bool.random(using: &generator) ? tags.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator))
            }
            // Either a decoding error (typed: anything else fails the test) or a term that
            // encodes back to a stable form.
            let term: Term
            do { term = try TermDecoder.decode(bytes) } catch { continue }
            let encoded = try #require(TermEncoder.encode(term), "\(bytes)")
            let again = try #require(TermEncoder.encode(try TermDecoder.decode(encoded)), "\(bytes)")
            #expect(again == encoded, "\(bytes)")
        }
    }
}
