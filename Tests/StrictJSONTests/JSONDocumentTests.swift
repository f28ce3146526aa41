import StrictJSON
import XCTest

/// `JSONDocument` is a second way to read the same request-path JSON: it must accept and reject exactly what
/// `JSONParser.parse` does, with the same errors, and read back the same values.
final class JSONDocumentTests: XCTestCase {
    typealias SplitMix = JSONFuzzTests.SplitMix

    func document(_ text: String, limits: JSONParser.Limits = JSONParser.Limits()) throws -> JSONDocument {
        try JSONDocument(parsing: Array(text.utf8), limits: limits)
    }

    /// Mutated reviews, with and without dropped members: same verdict, same error, same tree.
    func testAgreesWithTheTreeParserOnMutatedInputs() {
        var rng = SplitMix(state: 23)
        let seed = Array(#"{"request":{"uid":"u","object":{"metadata":{"managedFields":[{"f:x":{"k":"\u00e9"}}],"labels":{"env":"prod","é":"\ud83d\ude00"}},"spec":{"containers":[{"name":"a","env":[{"name":"X","value":"1e3"}],"image":"i","n":[-1.5e3,0,true,false,null]}]}}}}"#.utf8)
        let interesting: [UInt8] = Array("{}[]\",:\\u0123456789.eE+-tfn \n\u{7F}dD".utf8) + [0x80, 0xC3, 0xFF, 0x00, 0xE0, 0xED, 0xA0]
        var dropping = JSONParser.Limits()
        dropping.droppedContainerMembers = JSONParser.DroppedMembers(["managedFields", "env"])
        var shallow = JSONParser.Limits(maxDepth: 5)
        shallow.droppedContainerMembers = JSONParser.DroppedMembers(["env"])
        var accepted = 0, rejected = 0
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
            for limits in [JSONParser.Limits(), dropping, shallow] {
                let tree = Result { () throws(JSONParseError) in try JSONParser.parse(bytes, limits: limits) }
                let flat = Result { () throws(JSONParseError) in try JSONDocument(parsing: bytes, limits: limits) }
                switch (tree, flat) {
                case (.success(let value), .success(let document)):
                    accepted += 1
                    XCTAssertEqual(document.value(at: document.root), value, String(decoding: bytes, as: UTF8.self))
                case (.failure(let treeError), .failure(let flatError)):
                    rejected += 1
                    XCTAssertEqual(flatError, treeError, String(decoding: bytes, as: UTF8.self))
                default:
                    XCTFail("verdicts differ on \(String(decoding: bytes, as: UTF8.self)): \(tree) / \(flat)")
                }
            }
        }
        XCTAssertGreaterThan(accepted, 1_000)
        XCTAssertGreaterThan(rejected, 1_000)
    }

    func testRandomValuesReadBackUnchanged() throws {
        var rng = SplitMix(state: 99)
        for _ in 0..<2_000 {
            let value = randomValue(&rng)
            let parsed = try JSONDocument(parsing: value.serialized())
            XCTAssertEqual(parsed.value(at: parsed.root), value)
            let built = JSONDocument(value)
            XCTAssertEqual(built.value(at: built.root), value)
        }
    }

    func randomValue(_ rng: inout SplitMix, depth: Int = 0) -> JSONValue {
        switch depth > 4 ? Int.random(in: 0..<4, using: &rng) : Int.random(in: 0..<6, using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .number(JSONNumber(Int64.random(in: Int64.min...Int64.max, using: &rng)))
        case 3: return .string(randomString(&rng))
        case 4: return .array((0..<Int.random(in: 0..<4, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            return .object(JSONObject((0..<Int.random(in: 0..<4, using: &rng)).map { _ in
                JSONObject.Member(key: randomString(&rng), value: randomValue(&rng, depth: depth + 1))
            }))
        }
    }

    func randomString(_ rng: inout SplitMix) -> String {
        let alphabet: [Character] = ["a", "\"", "\\", "\n", "\u{01}", "é", "😀", "<", "\u{2028}", " ", "/", "\u{FFFD}"]
        return String((0..<Int.random(in: 0..<12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
    }

    func testMembersElementsAndLookups() throws {
        let text = #"{"a":1,"b":{"x":[1,{"y":2},[]],"z":"\u0041\n"},"a":"last","\u0062":null}"#
        for document in [try document(text), JSONDocument(try JSONParser.parse(text))] {
            let root = document.root
            XCTAssertEqual(document.kind(root), .object)
            XCTAssertEqual(document.members(of: root).map { document.string($0.key) }, ["a", "b", "a", "b"])
            // The last duplicate wins; an escaped key matches its decoded text.
            XCTAssertEqual(document.member("a", of: root).map { document.string($0) }, "last")
            XCTAssertEqual(document.member("b", of: root).map { document.kind($0) }, .null)
            XCTAssertNil(document.member("c", of: root))
            let b = try XCTUnwrap(Array(document.members(of: root))[1].value)
            let x = try XCTUnwrap(document.member("x", of: b))
            XCTAssertEqual(document.elements(of: x).map { document.kind($0) }, [.number, .object, .array])
            XCTAssertEqual(document.count(x), 3)
            XCTAssertEqual(Array(document.elements(of: x)).first.map { document.numberText($0) }, "1")
            XCTAssertEqual(document.string(try XCTUnwrap(document.member("z", of: b))), "A\n")
            XCTAssertTrue(document.string(try XCTUnwrap(document.member("z", of: b)), equals: "A\n"))
            XCTAssertFalse(document.string(try XCTUnwrap(document.member("z", of: b)), equals: "A"))
            // Members of a non-object and elements of a non-array are empty.
            XCTAssertTrue(Array(document.members(of: x)).isEmpty)
            XCTAssertTrue(Array(document.elements(of: b)).isEmpty)
        }
    }

    func testSurrogatesDecodeAsTheTreeParserDecodesThem() throws {
        for text in [#""\ud83d\ude00""#, #""\ud83d""#, #""\ude00x""#, #""\ud83d\u0041""#, #""\ud83dA\ude00""#, #""a\/b\\\"""#] {
            let document = try document(text)
            XCTAssertEqual(document.value(at: document.root), try JSONParser.parse(text), text)
        }
    }

    /// Nodes are written into the document's array while they fit the estimate made from the input's size;
    /// denser texts (one node every two bytes) move to a larger buffer. Both read back what the tree holds.
    func testDenseTextsOutgrowTheNodeEstimate() throws {
        for count in [0, 1, 7, 8, 9, 15, 16, 17, 40, 41, 200, 1_000] {
            for text in ["[" + Array(repeating: "1", count: count).joined(separator: ",") + "]",
                         "[" + Array(repeating: "[]", count: count).joined(separator: ",") + "]",
                         "[" + Array(repeating: #""""#, count: count).joined(separator: ",") + "]",
                         "{" + (0..<count).map { #""\#($0 % 10)":0"# }.joined(separator: ",") + "}",
                         String(repeating: "[", count: min(count + 1, 200)) + String(repeating: "]", count: min(count + 1, 200))] {
                let document = try document(text)
                XCTAssertEqual(document.value(at: document.root), try JSONParser.parse(text), text)
            }
        }
    }

    /// Plain ASCII strings are read sixteen bytes at a time (eight near the end of the input) by a fast path;
    /// anything else in them (a quote, an escape, a control byte, non-ASCII, the end of the input) sends them to
    /// the general scanner. Strings of every length up to two and a half blocks, with one such byte at every
    /// place, at every alignment, kept and dropped.
    func testStringFastPathAgreesWithTheGeneralScanner() {
        let specials: [[UInt8]] = [[], Array(#"\""#.utf8), Array(#"\n"#.utf8), Array(#"\u00e9"#.utf8), Array(#"\x"#.utf8),
                                   Array(#"\"#.utf8), [0x00], [0x1F], [0x7F], [0xC3, 0xA9], [0xC3], [0xFF], [0xE2, 0x82, 0xAC], [0x22]]
        var dropping = JSONParser.Limits()
        dropping.droppedContainerMembers = JSONParser.DroppedMembers(["env"])
        for length in 0...40 {
            for special in specials {
                for place in 0...length where !(special.isEmpty && place > 0) {
                    let plain = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8.prefix(length))
                    let string = Array(plain[..<place]) + special + Array(plain[place...])
                    for padding in [0, 1, 9] {  // loads are unaligned: where the string starts matters little
                        let pad = Array(repeating: UInt8(ascii: " "), count: padding)
                        let texts: [[UInt8]] = [
                            pad + [0x22] + string + [0x22],  // ends the input
                            pad + [0x22] + string,  // unterminated
                            Array(#"{"k":"#.utf8) + pad + [0x22] + string + Array(#"","l":[1]}"#.utf8),
                            Array(#"{"#.utf8) + pad + [0x22] + string + Array(#"":true}"#.utf8),  // a key
                            Array(#"["#.utf8) + pad + [0x22] + string + Array(#"",null]"#.utf8),
                            Array(#"{"env":["#.utf8) + pad + [0x22] + string + Array(#""],"x":{"#.utf8) + [0x22] + string + Array(#"":1}}"#.utf8),
                        ]
                        for text in texts {
                            for limits in [JSONParser.Limits(), dropping] {
                                let tree = Result { () throws(JSONParseError) in try JSONParser.parse(text, limits: limits) }
                                let flat = Result { () throws(JSONParseError) in try JSONDocument(parsing: text, limits: limits) }
                                switch (tree, flat) {
                                case (.success(let value), .success(let document)):
                                    XCTAssertEqual(document.value(at: document.root), value, String(decoding: text, as: UTF8.self))
                                case (.failure(let treeError), .failure(let flatError)):
                                    XCTAssertEqual(flatError, treeError, String(decoding: text, as: UTF8.self))
                                default:
                                    XCTFail("verdicts differ on \(String(decoding: text, as: UTF8.self)): \(tree) / \(flat)")
                                }
                            }
                            // A dropped string is validated as a kept one is: the same verdict either way.
                            let kept = (try? JSONParser.parse(text)) != nil
                            let dropped = (try? JSONDocument(parsing: text, limits: dropping)) != nil
                            XCTAssertEqual(kept, dropped, String(decoding: text, as: UTF8.self))
                        }
                    }
                }
            }
        }
    }

    /// A dropped member is skipped by its own code (`skipValue`), shared by both parsers: its grammar checks
    /// must be those of a kept member. Mutated inputs give the same verdict dropped or kept, and the same
    /// error, but where UTF-8 is concerned (a dropped string is validated between its escapes).
    func testDroppedMembersAreCheckedAsKeptOnesAre() {
        var rng = SplitMix(state: 7)
        let seed = Array(#"{"a":{"env":[{"name":"X","value":"1"},{"n":[],"o":{},"p":[1.5e3,-0,true,false,null,"s\"\u00e9"]}],"fieldsV1":{"f:x":{".":{},"f:y":{}}}},"b":"c"}"#.utf8)
        let interesting: [UInt8] = Array("{}[]\",:\\u0123456789.eE+-tfn \n\t".utf8) + [0x80, 0xC3, 0x00]
        var dropping = JSONParser.Limits(maxDepth: 6)
        dropping.droppedContainerMembers = JSONParser.DroppedMembers(["env", "fieldsV1"])
        var rejected = 0
        for iteration in 0..<20_000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 0...3, using: &rng) where iteration > 0 {
                let index = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[index] = interesting.randomElement(using: &rng)!
                case 1: bytes.remove(at: index)
                default: bytes.insert(interesting.randomElement(using: &rng)!, at: index)
                }
            }
            let kept = Result { () throws(JSONParseError) in try JSONDocument(parsing: bytes, limits: JSONParser.Limits(maxDepth: 6)) }
            let dropped = Result { () throws(JSONParseError) in try JSONDocument(parsing: bytes, limits: dropping) }
            switch (kept, dropped) {
            case (.success, .success): break
            case (.failure(let keptError), .failure(let droppedError)):
                rejected += 1
                if !keptError.message.contains("UTF-8") && !droppedError.message.contains("UTF-8") {
                    XCTAssertEqual(droppedError, keptError, String(decoding: bytes, as: UTF8.self))
                }
            default:
                XCTFail("verdicts differ on \(String(decoding: bytes, as: UTF8.self)): \(kept) / \(dropped)")
            }
        }
        XCTAssertGreaterThan(rejected, 1_000)
    }

    /// Literals are compared a word at a time: cut short or wrong at any byte, they are rejected where they
    /// start, by both parsers, kept or dropped.
    func testLiteralsCutOrWrongAtEveryByte() throws {
        var dropping = JSONParser.Limits()
        dropping.droppedContainerMembers = JSONParser.DroppedMembers(["env"])
        for literal in ["true", "false", "null"] {
            var variants = (1...literal.utf8.count).map { String(literal.prefix($0)) }
            for index in 1..<literal.utf8.count {
                var bytes = Array(literal.utf8)
                bytes[index] = UInt8(ascii: "x")
                variants.append(String(decoding: bytes, as: UTF8.self))
            }
            for variant in variants {
                for (text, offset) in [(variant, 0), ("[" + variant + "]", 1), (#"{"env":["# + variant + "]}", 8)] {
                    for limits in [JSONParser.Limits(), dropping] {
                        let bytes = Array(text.utf8)
                        if variant == literal {
                            XCTAssertNoThrow(try JSONDocument(parsing: bytes, limits: limits), text)
                            XCTAssertNoThrow(try JSONParser.parse(bytes, limits: limits), text)
                            continue
                        }
                        let tree = Result { () throws(JSONParseError) in try JSONParser.parse(bytes, limits: limits) }
                        let flat = Result { () throws(JSONParseError) in try JSONDocument(parsing: bytes, limits: limits) }
                        guard case .failure(let treeError) = tree, case .failure(let flatError) = flat else {
                            XCTFail("accepted: \(text)")
                            continue
                        }
                        XCTAssertEqual(flatError, treeError, text)
                        XCTAssertEqual(flatError.offset, offset, text)
                        XCTAssertEqual(flatError.message, "invalid literal, expected \(literal)", text)
                    }
                }
            }
        }
    }

    /// Dropped names are found by their raw bytes in a hash table: exactly the names listed (the empty one
    /// included, duplicates harmless), never a prefix, an extension, or an escaped spelling of one.
    func testDroppedNamesAreMatchedExactly() throws {
        var limits = JSONParser.Limits()
        let names = ["", "a", "ab", "env", "env", "managedFields", String(repeating: "x", count: 100)]
        limits.droppedContainerMembers = JSONParser.DroppedMembers(names)
        let keys = ["", "a", "b", "ab", "ba", "en", "envv", "nev", "managedField", "managedFieldsX", "\\u0065nv",
                    String(repeating: "x", count: 100), String(repeating: "x", count: 99), "é", "A"]
        let text = "{" + keys.map { #""\#($0)":[1],"\#($0)":"s""# }.joined(separator: ",") + "}"
        let expected = keys.flatMap { key -> [String] in
            let decoded = key == "\\u0065nv" ? "env" : key
            return names.contains(key) ? [decoded] : [decoded, decoded]
        }
        for document in [try document(text, limits: limits)] {
            XCTAssertEqual(document.members(of: document.root).map { document.string($0.key) }, expected)
        }
        guard case .object(let object) = try JSONParser.parse(text, limits: limits) else { return XCTFail("not an object") }
        XCTAssertEqual(object.members.map(\.key), expected)
        // No names: nothing is dropped.
        let all = try document(text, limits: JSONParser.Limits())
        XCTAssertEqual(all.count(all.root), keys.count * 2)
    }

    /// The prefilter in front of the name table (a bit per first and last byte for each length): a name is
    /// found whatever other names share its length, first or last byte, and a key sharing all three with a
    /// name is still dropped only when it is the name.
    func testDroppedNamePrefilterNeverHidesAName() throws {
        let names = ["a", "ab", "env", "exv", "e\u{C3}\u{A9}v", "managedFields", String(repeating: "y", count: 63),
                     String(repeating: "z", count: 64), String(repeating: "z", count: 100)]
        var limits = JSONParser.Limits()
        limits.droppedContainerMembers = JSONParser.DroppedMembers(names)
        let keys = names + ["b", "aa", "ea", "enn", "eev", "evv", "managedFieldz", "managedfields", "",
                            String(repeating: "z", count: 65), String(repeating: "z", count: 63), "A", "!",
                            // Same length, first and last byte as a name (the low six bits of each, too).
                            "eav", "mXXXXXXXXXXXs", "e\u{C3}\u{AA}v", "\u{25}nv", "e" + "n" + "\u{36}"]
        for key in keys {
            let text = #"{"# + key.debugDescription + #":[1],"k":1}"#
            let document = try document(text, limits: limits)
            XCTAssertEqual(document.member(key, of: document.root) != nil, !names.contains(key), key)
            guard case .object(let object) = try JSONParser.parse(text, limits: limits) else { return XCTFail("not an object") }
            XCTAssertEqual(object.members.contains { $0.key == key }, !names.contains(key), key)
        }
    }

    /// Integers read from the bytes: exactly what `Int64(text)` and `Int32(text)` accept, at and past each limit.
    func testIntegersReadAsTheStringInitializersReadThem() throws {
        let texts = ["0", "-0", "7", "-1", "10001", "1.0", "1.5", "1e3", "1E3", "-1e3", "1e-3", "1.5e3", "0.0",
                     "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967296",
                     "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
                     "18446744073709551616", "99999999999999999999999"]
        for text in texts {
            let document = try document(text)
            XCTAssertEqual(document.int64(document.root), Int64(text), text)
            XCTAssertEqual(document.int32(document.root), Int32(text), text)
        }
        // Up to 18 digits are read without overflow checks: every length either side, both signs, all nines and
        // a digit run, and a non-digit at every place.
        for length in 1...21 {
            let nines = String(repeating: "9", count: length)
            let run = String(String(repeating: "1234567890", count: 3).prefix(length))
            var texts = [nines, "-" + nines, run, "-" + run]
            for position in 0..<length {
                var bytes = Array(nines.utf8)
                bytes[position] = UInt8(ascii: ".")
                if position > 0 && position < length - 1 { texts.append(String(decoding: bytes, as: UTF8.self)) }
            }
            for text in texts {
                let document = try document(text)
                XCTAssertEqual(document.int64(document.root), Int64(text), text)
                XCTAssertEqual(document.int32(document.root), Int32(text), text)
            }
        }
        // A document built from a tree holds the numbers' text as given, which JSON would not allow.
        for text in ["+5", "-", "+", "", "--1", "1-", " 1", "0x10", "٣", "+999999999999999999", "000000000000000001",
                     "-00000000000000000009", "99999999999999999a", "9999999999999999999a", "1:", "/1"] {
            let document = JSONDocument(.number(JSONNumber(text: text)))
            XCTAssertEqual(document.int64(document.root), Int64(text), text)
            XCTAssertEqual(document.int32(document.root), Int32(text), text)
        }
        let notNumbers = try document(#"["1", null, true, {}, []]"#)
        for element in notNumbers.elements(of: notNumbers.root) {
            XCTAssertNil(notNumbers.int64(element))
            XCTAssertNil(notNumbers.int32(element))
        }
    }

    /// A view reads what the document reads: members, elements, kinds, strings, numbers.
    func testViewReadsAsTheDocumentReads() throws {
        let document = try document(#"{"a":[1,"x\u00e9",null,{"b":true}],"name":-7,"\u006eame":"n","":{}}"#)
        document.withView { view in
            func check(_ index: JSONDocument.Index) {
                XCTAssertEqual(view.kind(index), document.kind(index))
                XCTAssertEqual(view.string(index), document.string(index))
                XCTAssertEqual(view.numberText(index), document.numberText(index))
                XCTAssertEqual(view.int64(index), document.int64(index))
                XCTAssertEqual(view.int32(index), document.int32(index))
                let members = Array(view.members(of: index)), documentMembers = Array(document.members(of: index))
                XCTAssertEqual(members.map(\.key), documentMembers.map(\.key))
                XCTAssertEqual(members.map(\.value), documentMembers.map(\.value))
                for member in members {
                    check(member.value)
                }
                let elements = Array(view.elements(of: index))
                XCTAssertEqual(elements, Array(document.elements(of: index)))
                elements.forEach(check)
            }
            check(view.members(of: document.root).first { _ in true }!.key)
            check(document.root)
        }
    }

    /// `string(_:equals:)` compares bytes in place when the string holds no escape, the decoded text when it
    /// does: it answers as comparing `string(_:)` would, at every length, for escapes, non-ASCII and non-strings.
    func testStringEqualsAgreesWithTheDecodedString() throws {
        let texts = ["", "A", "ALL", "AL\\u004c", "ALL\\n", "\\u0041LL", "RuntimeDefault", "runtime/default",
                     "héllo wörld", "h\\u00e9llo w\\u00f6rld", "a-name-longer-than-fifteen-bytes",
                     "a-name-longer-than-fifteen-bytez", "\\ud800", "\\\"quoted\\\""]
        let candidates = ["", "A", "ALL", "ALL\n", "ALLX", "RuntimeDefault", "héllo wörld", "\u{FFFD}", "\"quoted\"",
                          "a-name-longer-than-fifteen-bytes", "a-name-longer-than-fifteen-byte"]
        let json = "[" + texts.map { "\"\($0)\"" }.joined(separator: ",") + ",1,null,[\"ALL\"]]"
        let document = try document(json)
        var compared = 0
        document.withView { view in
            for element in view.elements(of: document.root) {
                for candidate in candidates {
                    var candidate = candidate
                    let expected = view.kind(element) == .string && view.string(element) == candidate
                    let label = "\(view.string(element)) vs \(candidate)"
                    candidate.withUTF8 { utf8 in
                        XCTAssertEqual(view.string(element, equals: utf8), expected, label)
                        XCTAssertEqual(document.string(element, equals: utf8), expected)
                    }
                    compared += 1
                }
            }
        }
        XCTAssertEqual(compared, (texts.count + 3) * candidates.count)
        document.withView { view in
            let elements = Array(view.elements(of: document.root))
            XCTAssertTrue(view.string(elements[2], equals: "ALL"))
            XCTAssertTrue(view.string(elements[3], equals: "ALL"))
            XCTAssertFalse(view.string(elements[4], equals: "ALL"))
            XCTAssertFalse(view.string(elements[texts.count + 2], equals: "ALL"))
        }
    }

    /// A key's bytes (`withUTF8`: the decoded text when the string holds escapes) tested with `hasPrefix`, a word
    /// at a time: it answers as `utf8.starts(with:)` on the decoded string for keys equal to, longer or shorter
    /// than a prefix, differing from it in any one byte, escaped, and for non-strings.
    func testStringHasPrefixAgreesWithTheDecodedString() throws {
        let prefixes: [StaticString] = ["a", "ab", "abc", "abcd", "abcdefg", "abcdefgh", "abcdefghi",
                                        "container.apparmor.security.beta.kubernetes.io/", "é/"]
        var keys: [String] = ["", "x", "\\u0061bc", "ab\\u0063defghi", "\\u00e9/x", "\\u00e9"]
        for prefix in prefixes {
            let text = prefix.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
            let bytes = Array(text.utf8)
            keys += [text, text + "x", text + "-and-a-longer-tail", String(decoding: bytes.dropLast(), as: UTF8.self)]
            for position in bytes.indices where bytes[position] < 0x80 {
                var changed = bytes
                changed[position] ^= 0x01
                keys.append(String(decoding: changed, as: UTF8.self) + "tail")
            }
        }
        let json = "[" + keys.map { "\"\($0)\"" }.joined(separator: ",") + ",1,null]"
        let document = try document(json)
        var compared = 0
        document.withView { view in
            for element in view.elements(of: document.root) {
                for prefix in prefixes {
                    let expected = view.kind(element) == .string
                        && prefix.withUTF8Buffer { view.string(element).utf8.starts(with: $0) }
                    XCTAssertEqual(view.withUTF8(element) { $0.hasPrefix(prefix) }, expected, "\(view.string(element)) \(prefix)")
                    compared += 1
                }
            }
        }
        XCTAssertGreaterThan(compared, 1_000)
    }

    /// Keys are compared a word at a time, the last word overlapping: at every length, bytes differing at any
    /// one position are unequal, and equal bytes are equal.
    func testKeyBytesCompareEveryByteAtEveryLength() {
        for length in 1...40 {
            let name = (0..<length).map { UInt8(ascii: "a") &+ UInt8(($0 * 7 + length) % 26) }
            name.withUnsafeBufferPointer { expected in
                var copy = name
                copy.withUnsafeMutableBufferPointer { key in
                    XCTAssertTrue(JSONKeyBytes.bytesEqual(key.baseAddress!, expected.baseAddress!, count: length))
                    for position in 0..<length {
                        let original = key[position]
                        key[position] = original == UInt8(ascii: "_") ? UInt8(ascii: "-") : UInt8(ascii: "_")
                        XCTAssertFalse(JSONKeyBytes.bytesEqual(key.baseAddress!, expected.baseAddress!, count: length),
                                       "length \(length), position \(position)")
                        key[position] = original
                    }
                }
            }
        }
    }

    /// A view hands a string's bytes in place (`plainUTF8`: none when it holds escapes) or decoded (`withUTF8`).
    func testViewHandsStringBytesInPlaceOrDecoded() throws {
        let document = try document(#"{"name":"web","na\u006de":"caf\u00e9","":1,"x":[true]}"#)
        document.withView { view in
            let members = Array(view.members(of: document.root))
            XCTAssertEqual(view.plainUTF8(members[0].key).map { Array($0) }, Array("name".utf8))
            XCTAssertEqual(view.plainUTF8(members[0].value).map { Array($0) }, Array("web".utf8))
            XCTAssertNil(view.plainUTF8(members[1].key))
            XCTAssertNil(view.plainUTF8(members[1].value))
            XCTAssertEqual(view.plainUTF8(members[2].key).map { Array($0) }, [])
            XCTAssertNil(view.plainUTF8(members[2].value))  // a number
            XCTAssertNil(view.plainUTF8(members[3].value))  // an array
            XCTAssertEqual(view.withUTF8(members[1].key) { Array($0) }, Array("name".utf8))
            XCTAssertEqual(view.withUTF8(members[1].value) { Array($0) }, Array("caf\u{e9}".utf8))
            XCTAssertEqual(view.withUTF8(members[0].value) { Array($0) }, Array("web".utf8))
            XCTAssertEqual(view.withUTF8(members[2].value) { Array($0) }, [])
        }
    }
}
