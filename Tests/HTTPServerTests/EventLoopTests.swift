import CEventPoll
import Foundation
import XCTest
import HTTPServer
import TLS

/// Answers /gate only once the test opens the gate (on a thread of its own: it declines the fast path);
/// everything else at once, on the event loop. Counts where each request was answered.
final class GatedHandler: HTTPHandler, @unchecked Sendable {
    let gate = DispatchSemaphore(value: 0)
    /// Signalled when a gated request is inside `handle` (its thread started and running).
    let entered = DispatchSemaphore(value: 0)
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
        if request.path == "/gate" {
            entered.signal()
            gate.wait()
        }
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
        // Waits until the gated request is held in its handler (on a loaded machine its thread may start late).
        XCTAssertEqual(handler.entered.wait(timeout: .now() + 30), .success, "the gated request never reached its handler")

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

    /// More pipelined requests than one turn answers (16): the rest, already read and decrypted (epoll cannot
    /// see them), are answered in later turns without the client sending anything more, in order.
    func testLongPipelineIsAnsweredAcrossTurns() throws {
        let (server, port) = try startServer({ $0.eventLoopCount = 1 })
        defer { server.shutdown(drainSeconds: 1) }
        let client = try TestClient(port: port)
        defer { client.close() }
        let count = 53 // more than three turns of 16
        let pipeline = (0..<count).map { "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(String($0).utf8.count)\r\n\r\n\($0)" }
        try client.send(pipeline.joined())
        for index in 0..<count {
            XCTAssertEqual(client.readResponse()?.text, String(index))
        }
    }

    /// Bodies held by all connections together are bounded: one that would take the total past the budget is
    /// answered 503 and dropped; the others go on, and the budget is given back as requests complete or close.
    /// (Bodies arrive in reads of at most 16 KiB; the budget counts what a connection holds between reads.)
    func testBodyBudgetBoundsWhatAllConnectionsHold() throws {
        let (server, port) = try startServer({
            $0.maxBufferedBodyBytes = 100_000
            $0.bodyTimeoutSeconds = 5
        })
        defer { server.shutdown(drainSeconds: 1) }
        func eventually(_ condition: () -> Bool) -> Bool {
            (0..<100).contains { _ in
                if condition() { return true }
                usleep(20_000)
                return false
            }
        }
        let first = try TestClient(port: port)
        defer { first.close() }
        try first.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 80000\r\n\r\n" + String(repeating: "a", count: 60_000))
        XCTAssertTrue(eventually { server.bufferedBodyBytes == 60_000 }, "the first body is counted (\(server.bufferedBodyBytes))")

        let second = try TestClient(port: port)
        defer { second.close() }
        try second.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 80000\r\n\r\n" + String(repeating: "b", count: 80_000))
        let refused = second.readResponse()
        XCTAssertEqual(refused?.status, 503)
        XCTAssertTrue(refused?.text.contains("too many request bodies") ?? false, String(refused?.text.prefix(200) ?? ""))
        XCTAssertTrue(second.isClosedByServer(within: 3))
        XCTAssertEqual(server.bufferedBodyBytes, 60_000, "the refused body was dropped, and so was its share")

        try first.send(String(repeating: "a", count: 20_000))
        XCTAssertEqual(first.readResponse()?.body.count, 80_000)
        XCTAssertEqual(server.bufferedBodyBytes, 0, "given back when the request completed")

        let third = try TestClient(port: port)
        defer { third.close() }
        try third.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 90000\r\n\r\n" + String(repeating: "c", count: 90_000))
        XCTAssertEqual(third.readResponse()?.body.count, 90_000)
        // A connection that vanishes mid-body gives its share back too.
        let vanishing = try TestClient(port: port)
        try vanishing.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 90000\r\n\r\n" + String(repeating: "d", count: 40_000))
        XCTAssertTrue(eventually { server.bufferedBodyBytes > 0 })
        vanishing.close()
        XCTAssertTrue(eventually { server.bufferedBodyBytes == 0 }, "\(server.bufferedBodyBytes) bytes still counted")
    }

    /// A container's CPU limit caps the loops: cgroup v2 `cpu.max` read as whole processors, rounded up.
    func testCPUQuotaIsReadFromCgroupFormat() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cpu-max-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases: [(String, Int32)] = [("50000 100000\n", 1), ("100000 100000\n", 1), ("250000 100000\n", 3),
                                        ("max 100000\n", 0), ("garbage\n", 0), ("-5 100000\n", 0), ("100 0\n", 0)]
        for (index, (text, expected)) in cases.enumerated() {
            let path = directory.appendingPathComponent("cpu.max.\(index)").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertEqual(cep_cpu_quota_processors(path), expected, "for \(text.debugDescription)")
        }
        XCTAssertEqual(cep_cpu_quota_processors(directory.appendingPathComponent("missing").path), 0)
        XCTAssertGreaterThanOrEqual(HTTPServerConfiguration.processorCount, 1)
    }

    /// One loop per processor but one, from one to four; a fresh configuration takes it from this machine.
    func testDefaultEventLoopCountLeavesAProcessorAndStaysBetweenOneAndFour() {
        let expected = [0: 1, 1: 1, 2: 1, 3: 2, 4: 3, 5: 4, 8: 4, 64: 4]
        for (processors, loops) in expected {
            XCTAssertEqual(HTTPServerConfiguration.defaultEventLoopCount(processors: processors), loops, "\(processors) processors")
        }
        XCTAssertEqual(HTTPServerConfiguration(bindAddress: "127.0.0.1", port: 0).eventLoopCount,
                       HTTPServerConfiguration.defaultEventLoopCount(processors: HTTPServerConfiguration.processorCount))
    }

    /// Connection-level fuzzing of the state machine: many clients, each sending a random mix of good requests,
    /// bad ones, garbage, raw non-TLS bytes, and requests cut off at a random point, then vanishing, with a
    /// random split into writes. Afterwards every connection is gone and the server still serves.
    func testRandomTrafficLeavesTheServerServing() throws {
        let (server, port) = try startServer({
            $0.eventLoopCount = 2
            $0.headerTimeoutSeconds = 1
            $0.bodyTimeoutSeconds = 1
            $0.maxBodyBytes = 4096
        })
        defer { server.shutdown(drainSeconds: 1) }
        var generator = SplitMix(seed: 0x5eed)
        let pieces: [String] = [
            "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n\r\n",
            "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
            "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/9.9\r\n\r\n",
            "\u{0}\u{1}garbage\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "GET / HTTP/1.1\r\nHo",
        ]
        for _ in 0..<40 {
            if generator.next(below: 8) == 0 {
                // Not TLS at all.
                let socket = try rawLoopbackSocket(port: port)
                let junk = (0..<generator.next(below: 300)).map { _ in UInt8(truncatingIfNeeded: generator.next(below: 256)) }
                _ = junk.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                close(socket)
                continue
            }
            guard let client = try? TestClient(port: port, timeout: 2) else { continue }
            var stream: [UInt8] = []
            for _ in 0..<(1 + generator.next(below: 4)) {
                stream += Array(pieces[generator.next(below: pieces.count)].utf8)
            }
            if generator.next(below: 3) == 0 { stream = Array(stream.prefix(generator.next(below: stream.count + 1))) }
            var offset = 0
            while offset < stream.count {
                let size = 1 + generator.next(below: 64)
                guard (try? client.send(Array(stream[offset..<min(stream.count, offset + size)]))) != nil else { break }
                offset += size
            }
            if generator.next(below: 2) == 0 { _ = client.readResponse() }
            client.close()
        }
        // Every connection is closed (by its client, a refusal, or a timeout) and the server goes on serving.
        let closedAll = (0..<60).contains { _ in
            if server.connectionCount == 0 { return true }
            usleep(100_000)
            return false
        }
        XCTAssertTrue(closedAll, "\(server.connectionCount) connections still open")
        let client = try TestClient(port: port)
        defer { client.close() }
        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nping")
        XCTAssertEqual(client.readResponse()?.text, "ping")
    }
}

/// A small deterministic generator, so a failure replays.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(below bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return bound <= 1 ? 0 : Int(z % UInt64(bound))
    }
}

/// A plain TCP connection to the loopback port (for non-TLS bytes).
func rawLoopbackSocket(port: Int) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        throw NSError(domain: "connect", code: Int(errno))
    }
    return fd
}

