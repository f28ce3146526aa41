import XCTest
@testable import KubernetesClient

/// A stream that replays fixed pieces, one per read.
final class ScriptedStream: ByteStream {
    var pieces: [[UInt8]]
    init(_ pieces: [String]) { self.pieces = pieces.map { Array($0.utf8) } }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !pieces.isEmpty else { return 0 }
        let piece = pieces.removeFirst()
        let count = min(piece.count, buffer.count)
        piece.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        if count < piece.count { pieces.insert(Array(piece[count...]), at: 0) }
        return count
    }
    func write(_ bytes: [UInt8]) throws {}
    func setTimeout(seconds: Double) {}
    func interrupt() {}
    func close() {}
}

final class HTTPResponseReaderTests: XCTestCase {
    func testContentLengthBodyAcrossReads() throws {
        let reader = HTTPResponseReader(stream: ScriptedStream(["HTTP/1.1 200 OK\r\nContent-Le", "ngth: 11\r\n\r\nhello", " world"]))
        let head = try reader.readHead()
        XCTAssertEqual(head.statusCode, 200)
        XCTAssertEqual(head.framing, .contentLength(11))
        XCTAssertTrue(head.keepAlive)
        XCTAssertEqual(String(decoding: try reader.readBody(maxBytes: 100), as: UTF8.self), "hello world")
    }

    func testChunkedWithExtensionsAndTrailers() throws {
        let reader = HTTPResponseReader(stream: ScriptedStream([
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            "5;ext=1\r\nhel", "lo\r\n6\r\n world\r", "\n0\r\nX-Trailer: 1\r\n\r\n",
        ]))
        let head = try reader.readHead()
        XCTAssertEqual(head.framing, .chunked)
        XCTAssertFalse(head.keepAlive)
        XCTAssertEqual(String(decoding: try reader.readBody(maxBytes: 100), as: UTF8.self), "hello world")
    }

    func testWatchLinesSpanChunksAndChunksHoldSeveralLines() throws {
        let reader = HTTPResponseReader(stream: ScriptedStream([
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            "4\r\n{\"a\"\r\n", "B\r\n:1}\n{\"b\":2}\r\n", "9\r\n\n{\"c\":3}\n\r\n", "0\r\n\r\n",
        ]))
        _ = try reader.readHead()
        var lines: [String] = []
        try reader.forEachLine(maxLineBytes: 100) { lines.append(String(decoding: $0, as: UTF8.self)); return true }
        XCTAssertEqual(lines, ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"])
    }

    func testOversizeWatchLineIsAnError() throws {
        let reader = HTTPResponseReader(stream: ScriptedStream([
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "20\r\n" + String(repeating: "x", count: 32) + "\r\n",
        ]))
        _ = try reader.readHead()
        XCTAssertThrowsError(try reader.forEachLine(maxLineBytes: 16) { _ in true }) { error in
            XCTAssertTrue("\(error)".contains("longer than 16 bytes"), "\(error)")
        }
    }

    func testBodyOverTheLimitIsAnError() throws {
        let reader = HTTPResponseReader(stream: ScriptedStream(["HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"]))
        _ = try reader.readHead()
        XCTAssertThrowsError(try reader.readBody(maxBytes: 10)) { XCTAssertTrue("\($0)".contains("exceeds the limit"), "\($0)") }
        let chunked = HTTPResponseReader(stream: ScriptedStream(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"]))
        _ = try chunked.readHead()
        XCTAssertThrowsError(try chunked.readBody(maxBytes: 10)) { XCTAssertTrue("\($0)".contains("exceeds the limit"), "\($0)") }
    }

    func testTruncatedBodyIsAnError() throws {
        let reader = HTTPResponseReader(stream: ScriptedStream(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]))
        _ = try reader.readHead()
        XCTAssertThrowsError(try reader.readBody(maxBytes: 100)) { XCTAssertTrue("\($0)".contains("7 body bytes still due"), "\($0)") }
    }

    func testMalformedResponsesAreErrors() throws {
        for (input, expected) in [
            ("SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP/1.x status line"),
            ("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed response header"),
            ("HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n", "invalid content-length"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n", "conflicting content-length"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported transfer-encoding"),
            ("HTTP/1.1 200 OK\r\nX: " + String(repeating: "y", count: 70_000) + "\r\n\r\n", "longer than"),
            ("HTTP/1.1 200 OK\r\n", "connection closed while reading"),
        ] {
            let reader = HTTPResponseReader(stream: ScriptedStream([input]))
            XCTAssertThrowsError(try reader.readHead(), input.prefix(30).description) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error) should mention \(expected)")
            }
        }
        let badChunk = HTTPResponseReader(stream: ScriptedStream(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]))
        _ = try badChunk.readHead()
        XCTAssertThrowsError(try badChunk.readBody(maxBytes: 100)) { XCTAssertTrue("\($0)".contains("invalid chunk size"), "\($0)") }
        let longChunk = HTTPResponseReader(stream: ScriptedStream(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"]))
        _ = try longChunk.readHead()
        XCTAssertThrowsError(try longChunk.readBody(maxBytes: 100)) { XCTAssertTrue("\($0)".contains("chunk data longer than its size"), "\($0)") }
    }

    func testStatusBodyBecomesTheError() {
        let body = Array(#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"namespaces is forbidden: User \"x\" cannot list","reason":"Forbidden","code":403}"#.utf8)
        let error = KubernetesAPIError.fromResponse(statusCode: 403, reasonPhrase: "Forbidden", body: body)
        XCTAssertEqual(error.statusCode, 403)
        XCTAssertEqual(error.reason, "Forbidden")
        XCTAssertEqual(error.message, "namespaces is forbidden: User \"x\" cannot list")
        let plain = KubernetesAPIError.fromResponse(statusCode: 502, reasonPhrase: "Bad Gateway", body: Array("upstream down".utf8))
        XCTAssertEqual(plain.statusCode, 502)
        XCTAssertEqual(plain.message, "upstream down")
    }

    func testWatchEventDecoding() throws {
        let event = try WatchEvent(line: Array(#"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"12"}}}"#.utf8))
        XCTAssertEqual(event.type, .bookmark)
        for (line, expected) in [("{\"type\":\"ADDED\"", "not JSON"), ("{\"object\":{}}", "no type"),
                                 ("{\"type\":\"RENAMED\",\"object\":{}}", "unknown watch event type"),
                                 ("{\"type\":\"ADDED\",\"object\":3}", "has no object")] {
            XCTAssertThrowsError(try WatchEvent(line: Array(line.utf8))) { error in
                XCTAssertEqual((error as? KubernetesAPIError)?.reason, "InvalidWatchEvent")
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }
}
