import XCTest
@testable import HTTPServer

/// Fields built from strings (as handlers and tests build them) read back exactly, looked up in any case.
final class HTTPHeadersTests: XCTestCase {
    func testFieldsFromStrings() {
        let given: [(name: String, value: String)] = [
            ("Content-Type", "application/json"), ("X-Ü", "é\u{1F600}"), ("x-a", ""), ("X-A", "2"),
            ("Content_Type", "no"), ("", "empty name"), ("X-Long-Name-Over-Fifteen", String(repeating: "v", count: 100)),
        ]
        let headers = HTTPHeaders(given)
        XCTAssertEqual(headers.count, given.count)
        XCTAssertEqual(headers.fields.map(\.name), given.map(\.name))
        XCTAssertEqual(headers.fields.map(\.value), given.map(\.value))
        XCTAssertEqual(Array(headers).map(\.value), given.map(\.value))
        XCTAssertEqual(headers["CONTENT-TYPE"], "application/json")
        XCTAssertEqual(headers["x-ü"], nil) // only ASCII letters fold
        XCTAssertEqual(headers["X-Ü"], "é\u{1F600}")
        XCTAssertEqual(headers["X-a"], "")
        XCTAssertEqual(headers.values(for: "x-A"), ["", "2"])
        XCTAssertEqual(headers[""], "empty name")
        XCTAssertEqual(headers["x-long-name-over-fifteen"]?.count, 100)
        XCTAssertNil(headers["Content-Typ"])
        XCTAssertEqual(headers.values(for: "missing"), [])
        XCTAssertEqual(HTTPHeaders().count, 0)
        XCTAssertNil(HTTPHeaders()["Host"])
    }
}
