import XCTest
@testable import HTTPServer

/// The writer on its own: exact bytes for the handler's headers, framing and body.
final class HTTPResponseWriterTests: XCTestCase {
    func serialized(_ response: HTTPResponse, headOnly: Bool = false, keepAlive: Bool = true,
                    minorVersion: Int = 1) -> String {
        var output: [UInt8] = Array("left over from the last response".utf8)
        HTTPResponseWriter.serialize(response, headOnly: headOnly, keepAlive: keepAlive, minorVersion: minorVersion,
                                     into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    func testStatusLineFramingAndBody() {
        XCTAssertEqual(serialized(HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: Array("{}".utf8))),
                       "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
        XCTAssertEqual(serialized(HTTPResponse(status: 404), keepAlive: false),
                       "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(serialized(HTTPResponse(status: 200, body: Array(repeating: 0x61, count: 12345)), headOnly: true,
                                  minorVersion: 0),
                       "HTTP/1.1 200 OK\r\nContent-Length: 12345\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(serialized(HTTPResponse(status: 204, body: [1])), "HTTP/1.1 204 No Content\r\n\r\n")
        XCTAssertEqual(serialized(HTTPResponse(status: 1000)), "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(serialized(HTTPResponse(status: 299, body: Array(repeating: 0x61, count: 10)), headOnly: true),
                       "HTTP/1.1 299 Status\r\nContent-Length: 10\r\n\r\n")
    }

    /// Fields a handler may not send are dropped whole: framing ones in any case, names that are not tokens,
    /// values with CR, LF or other controls (a handler can never split the response).
    func testHandlerFieldsThatCannotBeSentAreDropped() {
        let headers: [(name: String, value: String)] = [
            ("X-Split", "a\r\nSet-Cookie: stolen"), ("X-LF", "a\nb"), ("X-NUL", "a\u{0}"), ("X-DEL", "\u{7F}"),
            ("CONTENT-length", "7"), ("connection", "keep-alive"), ("Transfer-EncodinG", "chunked"),
            ("", "empty name"), ("Bad Name", "v"), ("X:Colon", "v"), ("Ü", "v"), ("X-Inject\r\nA", "v"),
            ("X-Tab", "a\tb"), ("X-Empty", ""), ("X-UTF8", "é"), ("Connectio", "near miss"),
            ("X-Long-Header-Name-Over-Fifteen-Bytes", "a value longer than fifteen bytes"),
        ]
        XCTAssertEqual(serialized(HTTPResponse(status: 200, headers: headers)),
                       "HTTP/1.1 200 OK\r\nX-Tab: a\tb\r\nX-Empty: \r\nX-UTF8: é\r\nConnectio: near miss\r\n"
                       + "X-Long-Header-Name-Over-Fifteen-Bytes: a value longer than fifteen bytes\r\n"
                       + "Content-Length: 0\r\n\r\n")
    }

    /// Prepared fields are written as the same fields given as headers would be (the same ones dropped), after
    /// the response's own headers.
    func testPreparedFieldsAreWrittenAsHeadersWouldBe() {
        let fields: [(name: String, value: String)] = [
            ("Content-Type", "application/json"), ("X-Split", "a\r\nSet-Cookie: stolen"), ("content-length", "7"),
            ("Bad Name", "v"), ("X-Tab", "a\tb"), ("X-Empty", ""), ("X-UTF8", "é"),
        ]
        for body in [[], Array("{}".utf8)] {
            for keepAlive in [true, false] {
                XCTAssertEqual(serialized(HTTPResponse(status: 200, preparedFields: HTTPPreparedFields(fields), body: body),
                                          keepAlive: keepAlive),
                               serialized(HTTPResponse(status: 200, headers: fields, body: body), keepAlive: keepAlive))
            }
        }
        var response = HTTPResponse(status: 403, preparedFields: HTTPPreparedFields([("Content-Type", "application/json")]))
        response.headers = [("Allow", "POST")]
        XCTAssertEqual(serialized(response),
                       "HTTP/1.1 403 Forbidden\r\nAllow: POST\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(serialized(HTTPResponse(status: 204, preparedFields: HTTPPreparedFields([]))), "HTTP/1.1 204 No Content\r\n\r\n")
    }

    /// A head larger than any scratch on the stack, with every field written and long reason phrases.
    func testLargeHead() {
        let headers = (0..<200).map { (name: "X-Field-\($0)", value: String(repeating: "v", count: $0 * 3)) }
        var expected = "HTTP/1.1 431 Request Header Fields Too Large\r\n"
        for (name, value) in headers { expected += "\(name): \(value)\r\n" }
        expected += "Content-Length: 3\r\nConnection: keep-alive\r\n\r\nabc"
        XCTAssertEqual(serialized(HTTPResponse(status: 431, headers: headers, body: Array("abc".utf8)), minorVersion: 0),
                       expected)
    }
}
