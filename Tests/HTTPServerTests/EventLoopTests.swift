import Foundation
import XCTest
import HTTPServer
import TLS

/// Answers /gate only once the test opens the gate (on a thread of its own: it declines the fast path);
/// everything else at once, on the event loop. Counts where each request was answered.
final class GatedHandler: HTTPHandler, @unchecked Sendable {
    let gate = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var counts = (fast: 0, blocking: 0)

    var fastCount: Int { lock.withLock { counts.fast } }
    var blockingCount: Int { lock.withLock { counts.blocking } }

    func respondWithoutBlocking(to request: HTTPRequest) -> HTTPResponse? {
        guard request.path != "/gate" else { return nil }
        lock.withLock { counts.fast += 1 }
        return HTTPResponse(status: 200, body: Array("fast".utf8))
    }

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        lock.withLock { counts.blocking += 1 }
        if request.path == "/gate" { gate.wait() }
        return HTTPResponse(status: 200, body: Array("gated \(request.path)".utf8))
    }
}

final class EventLoopTests: XCTestCase {
    /// One loop, so both connections share it: a handler blocked on one must not hold up the other.
    func testABlockedHandlerDoesNotHoldUpOtherConnectionsOnItsLoop() throws {
        let handler = GatedHandler()
        let (server, port) = try startServer({ $0.eventLoopCount = 1 }, handler: handler)
        defer { server.shutdown(drainSeconds: 1) }
        let blocked = try TestClient(port: port)
        defer { blocked.close() }
        try blocked.send("GET /gate HTTP/1.1\r\nHost: x\r\n\r\n")

        let other = try TestClient(port: port)
        defer { other.close() }
        for _ in 0..<3 {
            try other.send("GET /quick HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(other.readResponse()?.text, "fast")
        }
        XCTAssertEqual(handler.fastCount, 3)
        XCTAssertEqual(handler.blockingCount, 1, "the gated request is on its thread, still waiting")

        handler.gate.signal()
        XCTAssertEqual(blocked.readResponse()?.text, "gated /gate")
        // The connection is kept alive after an answer from the blocking path, and goes on serving.
        try blocked.send("GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(blocked.readResponse()?.text, "fast")
    }

    /// Pipelined requests mixing both paths are answered in order.
    func testPipelinedRequestsAcrossBothPathsStayInOrder() throws {
        let handler = GatedHandler()
        let (server, port) = try startServer({ $0.eventLoopCount = 1 }, handler: handler)
        defer { server.shutdown(drainSeconds: 1) }
        let client = try TestClient(port: port)
        defer { client.close() }
        try client.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /gate HTTP/1.1\r\nHost: x\r\n\r\nGET /three HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.text, "fast")
        handler.gate.signal()
        XCTAssertEqual(client.readResponse()?.text, "gated /gate")
        XCTAssertEqual(client.readResponse()?.text, "fast")
    }

    /// Connections are spread over the loops, and every loop serves.
    func testManyConnectionsOverSeveralLoops() throws {
        let (server, port) = try startServer({ $0.eventLoopCount = 3 })
        defer { server.shutdown(drainSeconds: 1) }
        let clients = try (0..<9).map { _ in try TestClient(port: port) }
        for round in 0..<3 {
            for (index, client) in clients.enumerated() {
                let body = "c\(index)r\(round)"
                try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            }
            for (index, client) in clients.enumerated() {
                XCTAssertEqual(client.readResponse()?.text, "c\(index)r\(round)")
            }
        }
        XCTAssertEqual(server.connectionCount, 9)
        clients.forEach { $0.close() }
    }

    /// A response much larger than a socket buffer is written as the client reads it (the loop waits for
    /// writability instead of blocking), while the loop goes on serving others.
    func testLargeResponseToASlowReader() throws {
        let (server, port) = try startServer({ $0.eventLoopCount = 1; $0.maxBodyBytes = 8 * 1024 * 1024 })
        defer { server.shutdown(drainSeconds: 1) }
        let body = [UInt8]((0..<(6 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let slow = try TestClient(port: port)
        defer { slow.close() }
        try slow.send(Array("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
        // The echo cannot fit in the socket buffers until the slow client reads; another client is served meanwhile.
        let other = try TestClient(port: port)
        defer { other.close() }
        try other.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(other.readResponse()?.status, 200)
        let response = slow.readResponse()
        XCTAssertEqual(response?.body.count, body.count)
        XCTAssertTrue(response?.body == body, "the echoed body came back changed")
    }
}
