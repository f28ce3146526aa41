import XCTest
@testable import StrictJSON

final class JSONParserTests: XCTestCase {
    func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    func assertRejects(_ text: String, containing fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let value = try JSONParser.parse(text)
            XCTFail("accepted \(text.debugDescription) as \(value)", file: file, line: line)
        } catch {
            XCTAssertTrue(error.message.contains(fragment), "\(error) does not mention \(fragment)", file: file, line: line)
        }
    }

    func testScalars() throws {
        XCTAssertEqual(try parse("null"), .null)
        XCTAssertEqual(try parse(" true "), .bool(true))
        XCTAssertEqual(try parse("false"), .bool(false))
        XCTAssertEqual(try parse("0"), .number(JSONNumber(text: "0")))
        XCTAssertEqual(try parse("-12.5e+3"), .number(JSONNumber(text: "-12.5e+3")))
        XCTAssertEqual(try parse("\"a\""), .string("a"))
    }

    func testInt64IsExactAndNonIntegersAreNotInts() throws {
        XCTAssertEqual(try parse("9223372036854775807").numberValue?.int64, Int64.max)
        XCTAssertNil(try parse("9223372036854775808").numberValue?.int64)
        XCTAssertNil(try parse("1.0").numberValue?.int64)
        XCTAssertNil(try parse("1e3").numberValue?.int64)
        XCTAssertEqual(try parse("-1").numberValue?.int64, -1)
    }

    func testObjectsKeepOrderAndLastDuplicateWins() throws {
        let value = try parse(#"{"b":1,"a":{"x":[1,2,{}]},"b":2}"#)
        XCTAssertEqual(value["b"], .number(JSONNumber(text: "2")))
        XCTAssertEqual(value.objectValue?.keys, ["b", "a"])
        XCTAssertEqual(value["a"]?["x"]?.arrayValue?.count, 3)
        XCTAssertNil(value["missing"])
        XCTAssertNil(JSONValue.string("s")["key"])
    }

    func testEscapesAndUnicode() throws {
        XCTAssertEqual(try parse(#""a\"b\\c\/d\b\f\n\r\t""#), .string("a\"b\\c/d\u{08}\u{0C}\n\r\t"))
        XCTAssertEqual(try parse(#""\u00e9\u20AC""#), .string("é€"))
        XCTAssertEqual(try parse(#""\ud83d\ude00""#), .string("😀"))
        XCTAssertEqual(try parse("\"héllo 😀\""), .string("héllo 😀"))
        // Lone surrogates become U+FFFD, as Go's decoder does.
        XCTAssertEqual(try parse(#""\ud83dx""#), .string("\u{FFFD}x"))
        XCTAssertEqual(try parse(#""\ude00""#), .string("\u{FFFD}"))
        XCTAssertEqual(try parse(#""\ud83d\u0041""#), .string("\u{FFFD}A"))
    }

    func testRejectsWhatRFC8259Rejects() {
        assertRejects("", containing: "end of input")
        assertRejects("{", containing: "expected a string key")
        assertRejects("[1,]", containing: "expected a value")
        assertRejects(#"{"a":1,}"#, containing: "expected a string key")
        assertRejects("01", containing: "leading zero")
        assertRejects("-", containing: "expected a digit")
        assertRejects("1.", containing: "after '.'")
        assertRejects("1e", containing: "exponent")
        assertRejects("+1", containing: "expected a value")
        assertRejects("tru", containing: "expected true")
        assertRejects("nul", containing: "expected null")
        assertRejects("NaN", containing: "expected a value")
        assertRejects("\"abc", containing: "unterminated string")
        assertRejects("\"a\nb\"", containing: "control character")
        assertRejects(#""\x""#, containing: "invalid escape")
        assertRejects(#""\u12""#, containing: "4 hex digits")
        assertRejects(#"{"a" 1}"#, containing: "expected ':'")
        assertRejects(#"{"a":1 "b":2}"#, containing: "expected ',' or '}'")
        assertRejects("[1 2]", containing: "expected ',' or ']'")
        assertRejects("{} {}", containing: "after the JSON value")
        assertRejects("// comment\n{}", containing: "expected a value")
        assertRejects("{'a':1}", containing: "expected a string key")
    }

    func testRejectsInvalidUTF8() {
        XCTAssertThrowsError(try JSONParser.parse([0x22, 0xC3, 0x28, 0x22])) { error in
            XCTAssertTrue("\(error)".contains("invalid UTF-8"))
        }
        XCTAssertThrowsError(try JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22]))  // encoded surrogate
        XCTAssertThrowsError(try JSONParser.parse([0xFF]))
    }

    func testErrorsCarryLineAndColumn() {
        XCTAssertThrowsError(try JSONParser.parse("{\n  \"a\": 1,\n  \"b\": x\n}")) { error in
            let error = error as! JSONParseError
            XCTAssertEqual(error.line, 3)
            XCTAssertEqual(error.column, 8)
            XCTAssertEqual(error.description, "invalid JSON at line 3, column 8: unexpected 'x', expected a value")
        }
    }

    func testDepthIsBounded() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertThrowsError(try JSONParser.parse(deep)) { error in
            XCTAssertTrue("\(error)".contains("nesting deeper than 256"))
        }
        let ok = String(repeating: "[", count: 256) + String(repeating: "]", count: 256)
        XCTAssertNoThrow(try JSONParser.parse(ok))
        XCTAssertThrowsError(try JSONParser.parse("[[[]]]", limits: .init(maxDepth: 2)))
        let deepObjects = String(repeating: #"{"a":"#, count: 300) + "1" + String(repeating: "}", count: 300)
        XCTAssertThrowsError(try JSONParser.parse(deepObjects))
    }

    func testSequences() throws {
        XCTAssertEqual(try JSONParser.parseSequence(Array("".utf8)), [])
        XCTAssertEqual(try JSONParser.parseSequence(Array(" {\"a\":1}\n{\"a\":2}\n".utf8)).count, 2)
        XCTAssertEqual(try JSONParser.parseSequence(Array("{}{}[]".utf8)).count, 3)
        XCTAssertEqual(try JSONParser.parseSequence(Array("1 2".utf8)).count, 2)
        XCTAssertThrowsError(try JSONParser.parseSequence(Array("\"a\"\"b\"".utf8)))
        XCTAssertThrowsError(try JSONParser.parseSequence(Array("{} {".utf8)))
    }
}

final class JSONWriterTests: XCTestCase {
    /// Go's escaping byte by byte (invalid UTF-8 copied as it is), to check `writeEscaped` against.
    static func referenceEscaped(_ bytes: [UInt8]) -> [UInt8] {
        var text: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case 0x22: text += Array(#"\""#.utf8)
            case 0x5C: text += Array(#"\\"#.utf8)
            case 0x0A: text += Array(#"\n"#.utf8)
            case 0x0D: text += Array(#"\r"#.utf8)
            case 0x09: text += Array(#"\t"#.utf8)
            case 0x08: text += Array(#"\b"#.utf8)
            case 0x0C: text += Array(#"\f"#.utf8)
            case 0x00..<0x20, 0x3C, 0x3E, 0x26:
                let hex = String(byte, radix: 16)
                text += Array((#"\u"# + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
            case 0xE2 where index + 1 < bytes.count && bytes[index] == 0x80 && (bytes[index + 1] == 0xA8 || bytes[index + 1] == 0xA9):
                text += Array((bytes[index + 1] == 0xA8 ? #"\u2028"# : #"\u2029"#).utf8)
                index += 2
            default: text.append(byte)
            }
        }
        return text
    }

    /// `writeEscaped` over all of `bytes`, given `room` bytes at a time (the rest written into fresh room).
    static func escaped(_ bytes: [UInt8], room: Int) -> [UInt8] {
        var text: [UInt8] = []
        bytes.withUnsafeBufferPointer { source in
            var read = 0
            repeat {
                let output = UnsafeMutablePointer<UInt8>.allocate(capacity: room)
                defer { output.deallocate() }
                let step = JSONWriter.writeEscaped(source, from: read, to: output, room: room)
                XCTAssertTrue(step.read > read || source.isEmpty, "no progress")
                XCTAssertLessThanOrEqual(step.written, room)
                text += UnsafeBufferPointer(start: output, count: step.written)
                read = step.read
            } while read < bytes.count
        }
        return text
    }

    /// The plain fast path: every byte value at every position of strings of 0 to 40 bytes (blocks, tails, short
    /// strings, at offsets 0 and 3 of their buffer). It copies exactly the strings the reference leaves as
    /// they are, if ASCII (non-ASCII goes to `writeEscaped`), writes nothing past the string's length, and
    /// `appendQuoted` (which takes it first) still writes the reference's bytes.
    func testPlainFastPathAgreesWithTheReference() {
        for length in 0...40 {
            for position in 0..<max(1, length) {
                for byte in UInt8(0)...UInt8(255) {
                    var text = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    if length > 0 { text[position] = byte }
                    let reference = Self.referenceEscaped(text)
                    let isPlain = reference == text && text.allSatisfy { $0 < 0x80 }
                    for offset in [0, 3] {
                        let padded = [UInt8](repeating: 0x22, count: offset) + text
                        let output = UnsafeMutablePointer<UInt8>.allocate(capacity: length + 8)
                        defer { output.deallocate() }
                        output.initialize(repeating: 0xEE, count: length + 8)
                        let copied = padded.withUnsafeBufferPointer {
                            JSONWriter.writeIfPlain(UnsafeBufferPointer(rebasing: $0[offset...]), to: output)
                        }
                        XCTAssertEqual(copied, isPlain, "byte 0x\(String(byte, radix: 16)) at \(position) of \(length)")
                        if copied { XCTAssertEqual(Array(UnsafeBufferPointer(start: output, count: length)), text) }
                        XCTAssertEqual(Array(UnsafeBufferPointer(start: output + length, count: 8)),
                                       [UInt8](repeating: 0xEE, count: 8), "wrote past the string")
                    }
                    var quoted: [UInt8] = []
                    JSONWriter.appendQuoted(String(decoding: text, as: UTF8.self), to: &quoted)
                    let repaired = Array(String(decoding: text, as: UTF8.self).utf8)  // a String repairs invalid UTF-8
                    XCTAssertEqual(quoted, [0x22] + Self.referenceEscaped(repaired) + [0x22])
                    if length == 0 { break }  // the empty string once
                }
            }
        }
        let output = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        defer { output.deallocate() }
        XCTAssertTrue(JSONWriter.writeIfPlain(UnsafeBufferPointer(start: nil, count: 0), to: output))
    }

    /// Every byte value at every position of strings of 1 to 40 bytes (blocks, tails of every length, short
    /// strings), written with ample room and with the least room, against the reference.
    func testEveryByteAtEveryPositionEscapesAsTheReference() {
        for length in 1...40 {
            for position in 0..<length {
                for byte in UInt8(0)...UInt8(255) {
                    var text = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    text[position] = byte
                    let expected = Self.referenceEscaped(text)
                    XCTAssertEqual(Self.escaped(text, room: 6 * length + JSONWriter.escapeStepRoom), expected,
                                   "byte 0x\(String(byte, radix: 16)) at \(position) of \(length)")
                    if position % 7 == 0 {
                        XCTAssertEqual(Self.escaped(text, room: JSONWriter.escapeStepRoom), expected,
                                       "byte 0x\(String(byte, radix: 16)) at \(position) of \(length), least room")
                    }
                }
            }
        }
    }

    /// U+2028/9 and their broken forms (E2 alone, E2 80, E2 80 A7) at every position, also across the end of a
    /// 16-byte block and at the end of the string, among other escapes.
    func testLineSeparatorsAndBrokenSequencesAtEveryPosition() {
        let sequences: [[UInt8]] = [[0xE2, 0x80, 0xA8], [0xE2, 0x80, 0xA9], [0xE2], [0xE2, 0x80], [0xE2, 0x80, 0xA7],
                                    [0xE2, 0x82, 0xAC], [0xE2, 0xE2, 0x80, 0xA8], [0x22, 0xE2, 0x80, 0xA9, 0x22], [0xC3, 0xA9]]
        for sequence in sequences {
            for length in sequence.count...40 {
                for position in 0...(length - sequence.count) {
                    for filler in [UInt8(ascii: "a"), UInt8(ascii: "\"")] {
                        var text = [UInt8](repeating: filler, count: length)
                        text.replaceSubrange(position..<position + sequence.count, with: sequence)
                        let expected = Self.referenceEscaped(text)
                        XCTAssertEqual(Self.escaped(text, room: 6 * length + JSONWriter.escapeStepRoom), expected, "\(text)")
                        XCTAssertEqual(Self.escaped(text, room: JSONWriter.escapeStepRoom + position % 9), expected, "\(text)")
                    }
                }
            }
        }
    }

    /// Long random texts, dense or sparse in escapes, through `appendQuoted` (into arrays with and without spare
    /// capacity) and through `writeEscaped` with little room.
    func testLongTextsEscapeAsTheReference() {
        var rng = JSONFuzzTests.SplitMix(state: 11)
        let specials: [UInt8] = [0x22, 0x5C, 0x0A, 0x01, 0x1F, 0x3C, 0x3E, 0x26, 0xE2, 0x80, 0xA8, 0xA9, 0xC3, 0xFF, 0x7F]
        for round in 0..<400 {
            let length = Int.random(in: 0..<2_000, using: &rng)
            let density = [2, 6, 17, 200][round % 4]
            var text = (0..<length).map { _ in
                Int.random(in: 0..<density, using: &rng) == 0 ? specials.randomElement(using: &rng)! : UInt8(ascii: "x")
            }
            // Some whole separators.
            for _ in 0..<(length / 100) {
                let at = Int.random(in: 0..<max(1, length - 3), using: &rng)
                if at + 3 <= text.count { text.replaceSubrange(at..<at + 3, with: [0xE2, 0x80, 0xA8]) }
            }
            let expected = Self.referenceEscaped(text)
            XCTAssertEqual(Self.escaped(text, room: JSONWriter.escapeStepRoom + round % 50), expected)
            let string = String(decoding: text, as: UTF8.self)  // invalid UTF-8 repaired
            let valid = Array(string.utf8)
            var quoted: [UInt8] = Array("prefix".utf8)
            if round % 2 == 0 { quoted.reserveCapacity(3 * valid.count) }
            JSONWriter.appendQuoted(string, to: &quoted)
            XCTAssertEqual(quoted, Array("prefix\"".utf8) + Self.referenceEscaped(valid) + [0x22])
        }
    }

    /// The movemask stand-in used off x86, checked wherever the tests run.
    func testPortableLaneBitsAgreeWithLaneBits() {
        var rng = JSONFuzzTests.SplitMix(state: 5)
        for _ in 0..<10_000 {
            let bits = UInt32(truncatingIfNeeded: rng.next()) & 0xFFFF
            var lanes = SIMD16<UInt8>()
            for lane in 0..<16 where bits >> lane & 1 == 1 { lanes[lane] = 0xFF }
            XCTAssertEqual(ByteBlock.portableLaneBits(lanes), bits)
            XCTAssertEqual(ByteBlock.laneBits(lanes), bits)
        }
    }

    func testEscapesAsGoDoes() {
        let value = JSONValue.string("a\"\\\n\r\t\u{08}\u{0C}\u{01}<>&\u{2028}\u{2029}é/")
        XCTAssertEqual(value.jsonText, #""a\"\\\n\r\t\b\f\u0001\u003c\u003e\u0026\u2028\u2029é/""#)
    }

    func testEscapingKeepsOtherMultiByteCharacters() {
        // E2-led characters other than U+2028/9 stay as they are; escapes sit between plain runs.
        let value = JSONValue.string("€…\u{2028}x\u{2027}\u{202A}\"end")
        XCTAssertEqual(value.jsonText, "\"€…\\u2028x\u{2027}\u{202A}\\\"end\"")
        XCTAssertEqual(try JSONParser.parse(value.serialized()), value)
        XCTAssertEqual(JSONValue.string("").jsonText, "\"\"")
    }

    /// Plain runs are skipped eight bytes at a time; every byte that needs an escape must still be found,
    /// wherever it falls in a word. Checked against a scalar-by-scalar writer of Go's rules.
    func testEscapingFindsEveryByteWhereverItFalls() {
        func reference(_ string: String) -> String {
            var text = "\""
            for scalar in string.unicodeScalars {
                switch scalar {
                case "\"": text += "\\\""
                case "\\": text += "\\\\"
                case "\n": text += "\\n"
                case "\r": text += "\\r"
                case "\t": text += "\\t"
                case "\u{08}": text += "\\b"
                case "\u{0C}": text += "\\f"
                case "<", ">", "&", "\u{2028}", "\u{2029}", "\u{00}"..."\u{1F}":
                    let hex = String(scalar.value, radix: 16)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: text.unicodeScalars.append(scalar)
                }
            }
            return text + "\""
        }
        var rng = JSONFuzzTests.SplitMix(state: 3)
        let alphabet: [Character] = ["a", "b", " ", "/", "\"", "\\", "\n", "\u{01}", "\u{1F}", "<", ">", "&", "é", "€", "…",
                                     "\u{2028}", "\u{2029}", "\u{2027}", "😀", "\u{7F}"]
        for round in 0..<3_000 {
            // Some long enough to fill the writer's 512-byte chunk several times over.
            let length = round % 10 == 0 ? Int.random(in: 400..<1_600, using: &rng) : Int.random(in: 0..<40, using: &rng)
            // Mostly plain text with a rare special character, so that whole plain words occur.
            let string = String((0..<length).map { _ in
                Int.random(in: 0..<6, using: &rng) == 0 ? alphabet.randomElement(using: &rng)! : "x"
            })
            XCTAssertEqual(JSONValue.string(string).jsonText, reference(string), string.debugDescription)
        }
    }

    func testCompactInStoredOrder() {
        let value = JSONValue.object(JSONObject([
            "z": .number(JSONNumber(1)), "a": .array([.null, .bool(true), .string("x")]), "m": .object(JSONObject()),
        ]))
        XCTAssertEqual(value.jsonText, #"{"z":1,"a":[null,true,"x"],"m":{}}"#)
    }

    func testSubscriptSetterReplacesAndRemoves() {
        var object = JSONObject(["a": .null, "b": .bool(true), "a": .bool(false)])
        object["a"] = .string("x")
        XCTAssertEqual(JSONValue.object(object).jsonText, #"{"b":true,"a":"x"}"#)
        object["b"] = nil
        XCTAssertEqual(object.keys, ["a"])
    }
}

/// Property and mutation tests: the parser is request-path security code, so it must never crash or hang,
/// and whatever it accepts must survive a write/read round trip unchanged.
final class JSONFuzzTests: XCTestCase {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func randomValue(_ rng: inout SplitMix, depth: Int = 0) -> JSONValue {
        let pick = depth > 4 ? Int.random(in: 0..<4, using: &rng) : Int.random(in: 0..<6, using: &rng)
        switch pick {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .number(JSONNumber(Int64.random(in: Int64.min...Int64.max, using: &rng)))
        case 3:
            let alphabet: [Character] = ["a", "\"", "\\", "\n", "\u{01}", "é", "😀", "<", "\u{2028}", " ", "/"]
            return .string(String((0..<Int.random(in: 0..<12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }))
        case 4: return .array((0..<Int.random(in: 0..<4, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            return .object(JSONObject((0..<Int.random(in: 0..<4, using: &rng)).map { index in
                JSONObject.Member(key: "k\(index)", value: randomValue(&rng, depth: depth + 1))
            }))
        }
    }

    func testRoundTrip() throws {
        var rng = SplitMix(state: 42)
        for _ in 0..<2_000 {
            let value = randomValue(&rng)
            XCTAssertEqual(try JSONParser.parse(value.serialized()), value)
        }
    }

    func testMutatedInputsNeverCrash() {
        var rng = SplitMix(state: 7)
        let seed = Array(#"{"apiVersion":"admission.k8s.io/v1","request":{"uid":"u","object":{"spec":{"containers":[{"name":"a","securityContext":{"runAsUser":1000,"privileged":false}}]},"s":"\u00e9\n"}}}"#.utf8)
        let interesting: [UInt8] = Array("{}[]\",:\\u0123456789.eE+-tfn \n\u{7F}".utf8) + [0x80, 0xC3, 0xFF, 0x00]
        var accepted = 0
        for _ in 0..<20_000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let index = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[index] = interesting.randomElement(using: &rng)!
                case 1: bytes.remove(at: index)
                default: bytes.insert(interesting.randomElement(using: &rng)!, at: index)
                }
                if bytes.isEmpty { bytes = [0x20] }
            }
            if let value = try? JSONParser.parse(bytes) {
                accepted += 1
                XCTAssertEqual(try? JSONParser.parse(value.serialized()), value)
            }
        }
        // Some mutations keep the text valid (inside strings); most do not. Both paths must have run.
        XCTAssertGreaterThan(accepted, 0)
        XCTAssertLessThan(accepted, 20_000)
    }

    /// Dropping members changes what is built, never what is accepted: for mutated inputs, the parse with
    /// dropped members succeeds exactly when the full parse does, and equals the full parse with those
    /// (object- or array-valued) members removed.
    func testDroppedMembersAreValidatedTheSame() {
        var rng = SplitMix(state: 11)
        let seed = Array(#"{"request":{"uid":"u","object":{"metadata":{"managedFields":[{"f:x":{"k":"\u00e9"}}],"labels":{"env":"prod"}},"spec":{"containers":[{"name":"a","env":[{"name":"X","value":"1e3"}],"image":"i"}]}}}}"#.utf8)
        let interesting: [UInt8] = Array("{}[]\",:\\u0123456789.eE+-tfn \n\u{7F}".utf8) + [0x80, 0xC3, 0xFF, 0x00, 0xE0, 0xED, 0xA0]
        var limits = JSONParser.Limits()
        limits.droppedContainerMembers = JSONParser.DroppedMembers(["managedFields", "env"])
        func removingDropped(_ value: JSONValue) -> JSONValue {
            switch value {
            case .object(let object):
                return .object(JSONObject(object.members.compactMap { member in
                    if member.key == "managedFields" || member.key == "env" {
                        switch member.value {
                        case .object, .array: return nil
                        default: break
                        }
                    }
                    return JSONObject.Member(key: member.key, value: removingDropped(member.value))
                }))
            case .array(let items): return .array(items.map(removingDropped))
            default: return value
            }
        }
        var accepted = 0
        for iteration in 0..<20_000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 0...3, using: &rng) where iteration > 0 {
                let index = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[index] = interesting.randomElement(using: &rng)!
                case 1: bytes.remove(at: index)
                default: bytes.insert(interesting.randomElement(using: &rng)!, at: index)
                }
                if bytes.isEmpty { bytes = [0x20] }
            }
            let full = try? JSONParser.parse(bytes)
            let dropped = try? JSONParser.parse(bytes, limits: limits)
            XCTAssertEqual(full == nil, dropped == nil, String(decoding: bytes, as: UTF8.self))
            if let full, let dropped {
                accepted += 1
                XCTAssertEqual(removingDropped(full), dropped)
            }
        }
        XCTAssertGreaterThan(accepted, 100)
    }

    func testStringValuedMembersWithADroppedNameAreKept() throws {
        var limits = JSONParser.Limits()
        limits.droppedContainerMembers = JSONParser.DroppedMembers(["env", "status"])
        let value = try JSONParser.parse(Array(#"{"labels":{"env":"prod","status":"x"},"env":[1,2],"status":{"a":[]}}"#.utf8), limits: limits)
        XCTAssertEqual(value.serialized(), Array(#"{"labels":{"env":"prod","status":"x"}}"#.utf8))
        XCTAssertThrowsError(try JSONParser.parse(Array(#"{"env":[1,"\x"]}"#.utf8), limits: limits)) { error in
            XCTAssertTrue("\(error)".contains("invalid escape"), "\(error)")
        }
        XCTAssertThrowsError(try JSONParser.parse(Array(#"{"env":[01]}"#.utf8), limits: limits))
        XCTAssertThrowsError(try JSONParser.parse([UInt8](#"{"env":[""#.utf8) + [0xC3, 0x28] + Array(#""]}"#.utf8), limits: limits))
    }

    func testNamesDifferingOnlyInBytesTheHashSkipsAreKept() throws {
        // Same length, first, middle and last bytes as a listed name (so the same slot): only the byte
        // comparison tells them apart, in a short name, the first word, a middle word and the last word.
        var limits = JSONParser.Limits()
        limits.droppedContainerMembers = JSONParser.DroppedMembers(["groups", "managedFields", "topologySpreadConstraints"])
        let kept = ["grXups", "manXgedFields", "managedFiXlds", "topologySpXeadConstraints", "topologySpreadConstrXints"]
        let names = kept + ["groups", "managedFields", "topologySpreadConstraints"]
        let text = Array(("{" + names.map { #""\#($0)":[1]"# }.joined(separator: ",") + "}").utf8)
        let expected = Array(("{" + kept.map { #""\#($0)":[1]"# }.joined(separator: ",") + "}").utf8)
        XCTAssertEqual(try JSONParser.parse(text, limits: limits).serialized(), expected)
        let document = try JSONDocument(parsing: text, limits: limits)
        XCTAssertEqual(document.value(at: document.root).serialized(), expected)
    }

    func testKnownStringsReadTheSameAsBuiltOnes() throws {
        var limits = JSONParser.Limits()
        limits.knownStrings = JSONParser.StringTable(["name", "image", "a", "\u{e9}t\u{e9}", "spec", "x"])
        var rng = SplitMix(state: 5)
        for _ in 0..<500 {
            let value = randomValue(&rng)
            let text = value.serialized()
            XCTAssertEqual(try JSONParser.parse(text, limits: limits), try JSONParser.parse(text))
        }
        let text = Array(#"{"name":"image","\u00e9t\u00e9":"été","nam":"imag","spec":["a","x","xx"]}"#.utf8)
        let value = try JSONParser.parse(text, limits: limits)
        XCTAssertEqual(value, try JSONParser.parse(text))
        XCTAssertEqual(value["\u{e9}t\u{e9}"], .string("\u{e9}t\u{e9}"))
    }
}
