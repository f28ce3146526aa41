import StrictJSON
import XCTest

/// The scanner peeks at each token's byte once (0 standing for the end of the input) and reads numbers in the
/// member loop: the end of the input and a real NUL byte must still be told apart, in kept and in dropped
/// members, and every error keep its offset and message. Expectations taken from the scanner before those
/// changes.
final class JSONScannerEdgeTests: XCTestCase {
    func testErrorsAtTheEndOfInputAndAtNULBytes() {
        var limits = JSONParser.Limits()
        limits.droppedContainerMembers = JSONParser.DroppedMembers(["env"])
        let cases: [(text: String, offset: Int, message: String)] = [
            ("{\"a\":", 5, "unexpected end of input, expected a value"),
            ("{\"a\" ", 5, "unexpected end of input, expected ':' after an object key"),
            ("{\"a\"", 4, "unexpected end of input, expected ':' after an object key"),
            ("{\"a\":1 ", 7, "unexpected end of input inside an object"),
            ("{\"a\":1,", 7, "unexpected end of input, expected a string key"),
            ("{\"a\":1, ", 8, "unexpected end of input, expected a string key"),
            ("[1,", 3, "unexpected end of input, expected a value"),
            ("[1 ", 3, "unexpected end of input inside an array"),
            ("[", 1, "unexpected end of input, expected a value"),
            ("{", 1, "unexpected end of input, expected a string key"),
            ("{ ", 2, "unexpected end of input, expected a string key"),
            ("{\"a\":1\u{0}}", 6, "unexpected byte 0x0, expected ',' or '}'"),
            ("{\"a\":\u{0}}", 5, "unexpected byte 0x0, expected a value"),
            ("{\"a\"\u{0}:1}", 4, "unexpected byte 0x0, expected ':' after an object key"),
            ("[\u{0}]", 1, "unexpected byte 0x0, expected a value"),
            ("{\u{0}}", 1, "unexpected byte 0x0, expected a string key"),
            ("[1\u{0}]", 2, "unexpected byte 0x0, expected ',' or ']'"),
            ("{\"a\": \u{0}}", 6, "unexpected byte 0x0, expected a value"),
            ("{\"a\":1 \u{0}}", 7, "unexpected byte 0x0, expected ',' or '}'"),
            ("{\"env\":{\"a\":", 12, "unexpected end of input, expected a value"),
            ("{\"env\":{\"a\" ", 12, "unexpected end of input, expected ':' after an object key"),
            ("{\"env\":{\"a\":1 ", 14, "unexpected end of input inside an object"),
            ("{\"env\":{\"a\":1,", 14, "unexpected end of input, expected a string key"),
            ("{\"env\":[1,", 10, "unexpected end of input, expected a value"),
            ("{\"env\":[1 ", 10, "unexpected end of input inside an array"),
            ("{\"env\":{\"a\":1\u{0}}}", 13, "unexpected byte 0x0, expected ',' or '}'"),
            ("{\"env\":{\"a\":\u{0}}}", 12, "unexpected byte 0x0, expected a value"),
            ("{\"env\":{\"a\"\u{0}:1}}", 11, "unexpected byte 0x0, expected ':' after an object key"),
            ("{\"env\":[\u{0}]}", 8, "unexpected byte 0x0, expected a value"),
            ("{\"env\":{\u{0}}}", 8, "unexpected byte 0x0, expected a string key"),
            ("{\"a\":-}", 6, "invalid number: expected a digit"),
            ("{\"a\":01}", 5, "invalid number: leading zero"),
            ("{\"a\":1.}", 7, "invalid number: expected a digit after '.'"),
            ("{\"a\":1e}", 7, "invalid number: expected a digit in the exponent"),
            ("{\"a\":1e+}", 8, "invalid number: expected a digit in the exponent"),
            ("{\"a\":-x}", 6, "invalid number: expected a digit"),
            ("{\"a\":1x}", 6, "unexpected 'x', expected ',' or '}'"),
            ("{\"a\":.5}", 5, "unexpected '.', expected a value"),
            ("{\"a\":tru}", 5, "invalid literal, expected true"),
            ("{\"a\":nul}", 5, "invalid literal, expected null"),
            ("{\"a\":falsy}", 5, "invalid literal, expected false"),
            ("{\"env\":{\"a\":-}}", 13, "invalid number: expected a digit"),
            ("{\"env\":[01]}", 8, "invalid number: leading zero"),
            ("{\"env\":{\"a\":tru}}", 12, "invalid literal, expected true"),
        ]
        for (text, offset, message) in cases {
            let bytes = Array(text.utf8)
            let flat = Result { () throws(JSONParseError) in try JSONDocument(parsing: bytes, limits: limits) }
            let tree = Result { () throws(JSONParseError) in try JSONParser.parse(bytes, limits: limits) }
            for result in [flat.map { _ in () }, tree.map { _ in () }] {
                guard case .failure(let error) = result else {
                    XCTFail("accepted \(text.debugDescription)")
                    continue
                }
                XCTAssertEqual(error.offset, offset, text.debugDescription)
                XCTAssertEqual(error.message, message, text.debugDescription)
            }
        }
    }

    func testSpacedMembersAndNumbersReadBack() throws {
        var limits = JSONParser.Limits()
        limits.droppedContainerMembers = JSONParser.DroppedMembers(["env"])
        for text in [
            "{\"a\" :\n 1 ,\r\n\t\"b\" : [ 1 , {\"c\" : true } ] \n}",
            "{\"env\" : [ 1 ,\n {\"c\" : null } ] , \"d\":2}",
            #"{"a":-1.5e3,"b":0,"c":[-0,1E+2,3.25],"d":true,"e":{"f":12345678901234567890},"g":-0.0e-0}"#,
        ] {
            let document = try JSONDocument(parsing: Array(text.utf8), limits: limits)
            XCTAssertEqual(document.value(at: document.root), try JSONParser.parse(text, limits: limits), text)
        }
        let document = try JSONDocument(parsing: Array(#"{"a":-1.5e3,"b":0,"env":[1],"c":7}"#.utf8), limits: limits)
        XCTAssertEqual(document.count(document.root), 3)
        XCTAssertEqual(document.value(at: document.root), .object(JSONObject([
            JSONObject.Member(key: "a", value: .number(JSONNumber(text: "-1.5e3"))),
            JSONObject.Member(key: "b", value: .number(JSONNumber(text: "0"))),
            JSONObject.Member(key: "c", value: .number(JSONNumber(text: "7"))),
        ])))
    }

    /// A dropped member's container is skipped by the dropped-name check itself, not by a call for it: the
    /// depth limit applies to it and to what it holds as to a kept container, with the same error, in both
    /// parsers.
    func testDroppedContainersAtTheDepthLimit() {
        var dropping = JSONParser.Limits(maxDepth: 3)
        dropping.droppedContainerMembers = JSONParser.DroppedMembers(["env"])
        let cases: [(text: String, offset: Int?)] = [
            (#"{"a":{"env":{}}}"#, nil),
            (#"{"a":{"env":[]}}"#, nil),
            (#"{"a":{"b":{"env":{}}}}"#, 17),
            (#"{"a":{"b":{"env":[1]}}}"#, 17),
            (#"{"env":[[]]}"#, nil),
            (#"{"env":[[[]]]}"#, 9),
            (#"{"env":{"x":{"y":{}}}}"#, 17),
            (#"{"a":{"env":{"x":"s","y":{}}}}"#, 25),
            (#"{"env":[1,true,"s",{"k":[]}]}"#, 24),
        ]
        for (text, offset) in cases {
            let bytes = Array(text.utf8)
            for limits in [JSONParser.Limits(maxDepth: 3), dropping] {
                let flat = Result { () throws(JSONParseError) in try JSONDocument(parsing: bytes, limits: limits) }
                let tree = Result { () throws(JSONParseError) in try JSONParser.parse(bytes, limits: limits) }
                for result in [flat.map { _ in () }, tree.map { _ in () }] {
                    switch (result, offset) {
                    case (.success, nil): break
                    case (.failure(let error), let offset?):
                        XCTAssertEqual(error.offset, offset, text)
                        XCTAssertEqual(error.message, "nesting deeper than 3 levels", text)
                    default: XCTFail("\(text): \(result)")
                    }
                }
            }
        }
    }
}
