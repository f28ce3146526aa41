import Foundation
import XCTest
@testable import HTTPServer
import TLS

final class HTTPServerTests: XCTestCase {
    var server: HTTPServer?
    var port = 0

    override func tearDown() {
        server?.shutdown(drainSeconds: 2)
        server = nil
    }

    func start(_ adjust: (inout HTTPServerConfiguration) -> Void = { _ in }) throws {
        let (server, port) = try startServer(adjust)
        self.server = server
        self.port = port
    }

    /// One request on a fresh connection must still work (run after every refused request).
    func assertServerHealthy(file: StaticString = #filePath, line: UInt = #line) {
        do {
            let client = try TestClient(port: port)
            defer { client.close() }
            try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nping")
            let response = client.readResponse()
            XCTAssertEqual(response?.status, 200, file: file, line: line)
            XCTAssertEqual(response?.text, "ping", file: file, line: line)
        } catch {
            XCTFail("a good request failed after a bad one: \(error)", file: file, line: line)
        }
    }

    /// Sends `raw` on a new connection; expects `status` as a JSON Status, then the connection closed.
    func assertRefused(_ raw: String, status: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let client = try TestClient(port: port)
        defer { client.close() }
        try client.send(raw)
        let response = client.readResponse()
        XCTAssertEqual(response?.status, status, "for \(raw.debugDescription)", file: file, line: line)
        XCTAssertEqual(response?.header("Content-Type"), "application/json", file: file, line: line)
        XCTAssertEqual(response?.header("Connection"), "close", file: file, line: line)
        if let body = response?.body {
            let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
            XCTAssertEqual(object?["kind"] as? String, "Status", file: file, line: line)
            XCTAssertEqual(object?["status"] as? String, "Failure", file: file, line: line)
            XCTAssertEqual(object?["code"] as? Int, status, file: file, line: line)
            XCTAssertFalse((object?["message"] as? String ?? "").isEmpty, file: file, line: line)
        }
        XCTAssertTrue(client.isClosedByServer(within: 3), "the connection stays open", file: file, line: line)
        assertServerHealthy(file: file, line: line)
    }

    // MARK: Round trips

    func testGetAndPost() throws {
        try start()
        let client = try TestClient(port: port)
        defer { client.close() }
        try client.send("GET /echo?timeout=10s&x=a%20b HTTP/1.1\r\nHost: localhost\r\nX-Test: hello\r\n\r\n")
        let get = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(get.status, 200)
        XCTAssertEqual(get.header("X-Method"), "GET")
        XCTAssertEqual(get.header("X-Target"), "/echo?timeout=10s&x=a%20b")
        XCTAssertEqual(get.header("X-Query-Timeout"), "10s")
        XCTAssertEqual(get.header("X-Header-Test"), "hello")
        XCTAssertTrue(get.header("X-Remote")?.hasPrefix("127.0.0.1:") ?? false)
        XCTAssertEqual(get.header("X-Client"), "-", "no mTLS, no client subject")
        XCTAssertEqual(get.header("Content-Length"), "0")
        XCTAssertNil(get.header("Connection"))

        let body = String(repeating: "0123456789", count: 5000)
        try client.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        let post = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(post.status, 200)
        XCTAssertEqual(post.header("X-Method"), "POST")
        XCTAssertEqual(post.text, body)

        try client.send("GET /json HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let json = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(json.header("Content-Type"), "application/json")
        XCTAssertEqual(json.text, #"{"ok":true}"#)
    }

    func testChunkedRequestBody() throws {
        try start()
        let client = try TestClient(port: port)
        defer { client.close() }
        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5\r\nhello\r\n7;name=value\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n")
        let response = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "hello, world")
        // And the connection is still usable.
        try client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.text, "ok")
    }

    func testKeepAliveReusesOneConnection() throws {
        try start()
        let client = try TestClient(port: port)
        defer { client.close() }
        for index in 0..<10 {
            try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(String(index).count)\r\n\r\n\(index)")
            let response = client.readResponse()
            XCTAssertEqual(response?.status, 200)
            XCTAssertEqual(response?.text, String(index))
        }
        XCTAssertEqual(server?.connectionCount, 1)
    }

    func testHTTP10ClosesByDefaultAndKeepsAliveWhenAsked() throws {
        try start()
        let client = try TestClient(port: port)
        try client.send("GET / HTTP/1.0\r\n\r\n")
        let response = client.readResponse()
        XCTAssertEqual(response?.status, 200)
        XCTAssertEqual(response?.header("Connection"), "close")
        XCTAssertTrue(client.isClosedByServer(within: 3))
        client.close()

        let keeping = try TestClient(port: port)
        defer { keeping.close() }
        for _ in 0..<3 {
            try keeping.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let response = keeping.readResponse()
            XCTAssertEqual(response?.status, 200)
            XCTAssertEqual(response?.header("Connection"), "keep-alive")
        }
    }

    func testConnectionCloseIsHonoured() throws {
        try start()
        let client = try TestClient(port: port)
        defer { client.close() }
        try client.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.header("Connection"), "close")
        XCTAssertTrue(client.isClosedByServer(within: 3))
    }

    func testHeadAndNoContentHaveNoBody() throws {
        try start()
        let client = try TestClient(port: port)
        defer { client.close() }
        try client.send("HEAD /json HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = try XCTUnwrap(client.readResponse(headOnly: true))
        XCTAssertEqual(head.header("Content-Length"), "11")
        try client.send("GET /nocontent HTTP/1.1\r\nHost: x\r\n\r\n")
        let empty = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(empty.status, 204)
        XCTAssertNil(empty.header("Content-Length"))
        // The connection is still in step: nothing stray was sent.
        try client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.text, "ok")
    }

    func testHandlerHeadersCannotSplitTheResponse() throws {
        try start()
        let client = try TestClient(port: port)
        defer { client.close() }
        try client.send("GET /bad-header HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try XCTUnwrap(client.readResponse())
        XCTAssertNil(response.header("Injected"))
        XCTAssertNil(response.header("X-Split"))
        XCTAssertEqual(response.header("Content-Length"), "4")
        XCTAssertEqual(response.text, "fine")
    }

    func testPipelinedRequestsAnsweredInOrder() throws {
        try start()
        let client = try TestClient(port: port)
        defer { client.close() }
        var batch = ""
        for index in 0..<5 {
            batch += "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\nreply-\(index)"
        }
        batch += "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"
        try client.send(batch)
        for index in 0..<5 { XCTAssertEqual(client.readResponse()?.text, "reply-\(index)") }
        XCTAssertEqual(client.readResponse()?.text, "slow")
        XCTAssertEqual(client.readResponse()?.text, "ok")
    }

    func testExpectContinue() throws {
        try start()
        let client = try TestClient(port: port)
        defer { client.close() }
        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        let interim = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(interim.status, 100)
        try client.send("hello")
        let final = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(final.status, 200)
        XCTAssertEqual(final.text, "hello")
        // Over the limit: 413 at once, no 100.
        try assertRefused("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 99999999\r\n\r\n",
                          status: 413)
    }

    func testParallelClients() throws {
        try start()
        let failures = Locked(0)
        let successes = Locked(0)
        let group = DispatchGroup()
        let port = self.port
        for client in 0..<50 {
            group.enter()
            Thread {
                defer { group.leave() }
                do {
                    let connection = try TestClient(port: port)
                    defer { connection.close() }
                    for request in 0..<20 {
                        let body = "client \(client) request \(request)"
                        try connection.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
                        if connection.readResponse()?.text == body {
                            successes.withLock { $0 += 1 }
                        } else {
                            failures.withLock { $0 += 1 }
                        }
                    }
                } catch {
                    failures.withLock { $0 += 1 }
                }
            }.start()
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(failures.withLock { $0 }, 0)
        XCTAssertEqual(successes.withLock { $0 }, 1000)
    }

    func testIPv6DualStackBind() throws {
        try start { $0.bindAddress = "::" }
        for (host, remote) in [("127.0.0.1", "127.0.0.1:"), ("::1", "[::1]:"), ("localhost", "")] {
            let client = try TestClient(port: port, host: host)
            try client.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = client.readResponse()
            XCTAssertEqual(response?.status, 200, host)
            XCTAssertTrue(response?.header("X-Remote")?.hasPrefix(remote) ?? false, "\(String(describing: response?.header("X-Remote")))")
            client.close()
        }
    }

    // MARK: Limits

    func testBodyTooLargeByContentLength() throws {
        try start { $0.maxBodyBytes = 1024 }
        try assertRefused("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n", status: 413)
        try assertRefused("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 123456789012345678901234567890\r\n\r\n",
                          status: 413)
        // Exactly the limit is fine.
        let client = try TestClient(port: port)
        defer { client.close() }
        let body = String(repeating: "a", count: 1024)
        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n\(body)")
        XCTAssertEqual(client.readResponse()?.text, body)
    }

    func testBodyTooLargeWhileChunked() throws {
        try start { $0.maxBodyBytes = 1024 }
        let chunk = "200\r\n" + String(repeating: "b", count: 512) + "\r\n"
        try assertRefused("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk + chunk
                          + "0\r\n\r\n", status: 413)
        // The default limit is 3 MiB.
        XCTAssertEqual(HTTPServerConfiguration().maxBodyBytes, 3 * 1024 * 1024)
    }

    func testDefaultBodyLimitWithBigBody() throws {
        try start()
        try assertRefused("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(3 * 1024 * 1024 + 1)\r\n\r\n", status: 413)
        let client = try TestClient(port: port)
        defer { client.close() }
        let body = [UInt8](repeating: 0x61, count: 3 * 1024 * 1024)
        try client.send(Array("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
        XCTAssertEqual(client.readResponse()?.body.count, body.count)
    }

    func testHeadersTooLarge() throws {
        try start { $0.maxHeaderBytes = 4096 }
        let big = String(repeating: "v", count: 5000)
        try assertRefused("GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(big)\r\n\r\n", status: 431)
        // Many small headers add up too.
        let many = (0..<400).map { "X-H\($0): value\r\n" }.joined()
        try assertRefused("GET / HTTP/1.1\r\nHost: x\r\n\(many)\r\n", status: 431)
    }

    func testMalformedRequestsAreRefused() throws {
        try start()
        let bad: [(String, Int)] = [
            ("GARBAGE\r\n\r\n", 400),
            ("GET /\r\nHost: x\r\n\r\n", 400),
            ("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400),
            ("G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("GET http://example.com/ HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("GET / HTTQ/1.1\r\nHost: x\r\n\r\n", 400),
            ("\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: x\r\nX-Space : v\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: x\r\n: novalue\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n b\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: x\r\nX-Ctl: a\u{01}b\r\n\r\n", 400),
            ("GET / HTTP/1.1\nHost: x\n\n", 400),
            ("GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400),
            ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n", 417),
        ]
        for (raw, status) in bad { try assertRefused(raw, status: status) }
    }

    func testDuplicateEqualContentLengthIsAccepted() throws {
        try start()
        let client = try TestClient(port: port)
        defer { client.close() }
        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\nhello")
        XCTAssertEqual(client.readResponse()?.text, "hello")
    }

    func testUnsupportedVersion() throws {
        try start()
        try assertRefused("GET / HTTP/2.0\r\nHost: x\r\n\r\n", status: 505)
        try assertRefused("GET / HTTP/1.2\r\nHost: x\r\n\r\n", status: 505)
        try assertRefused("GET / HTTP/0.9\r\n\r\n", status: 505)
    }

    // MARK: Timeouts

    func testHeaderTimeoutClosesSlowloris() throws {
        try start { $0.headerTimeoutSeconds = 0.6 }
        let client = try TestClient(port: port)
        defer { client.close() }
        let started = Date()
        // Dripping a byte every 100 ms does not extend the deadline.
        let head = Array("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ".utf8)
        var closedEarly = false
        for byte in head + Array(repeating: UInt8(ascii: "a"), count: 30) {
            do { try client.send([byte]) } catch { closedEarly = true; break }
            usleep(100_000)
            if Date().timeIntervalSince(started) > 1.5 { break }
        }
        let response = closedEarly ? nil : client.readResponse()
        if let response { XCTAssertEqual(response.status, 408) }
        XCTAssertTrue(client.isClosedByServer(within: 3))
        XCTAssertLessThan(Date().timeIntervalSince(started), 4)
        assertServerHealthy()
    }

    func testHeaderTimeoutOnSilentConnection() throws {
        try start { $0.headerTimeoutSeconds = 0.5 }
        let client = try TestClient(port: port)
        defer { client.close() }
        let started = Date()
        let response = client.readResponse()
        XCTAssertEqual(response?.status, 408)
        XCTAssertTrue(client.isClosedByServer(within: 3))
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        // A kept-alive connection gets a fresh header timeout for each request.
        let second = try TestClient(port: port)
        defer { second.close() }
        for _ in 0..<3 {
            try second.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(second.readResponse()?.status, 200)
            usleep(300_000)
        }
        XCTAssertEqual(server?.connectionCount, 1)
    }

    func testIdleTimeoutClosesQuietly() throws {
        try start {
            $0.idleTimeoutSeconds = 0.5
            $0.headerTimeoutSeconds = 5
        }
        let client = try TestClient(port: port)
        defer { client.close() }
        try client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.status, 200)
        let started = Date()
        XCTAssertNil(client.readResponse(), "closed without an answer")
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertGreaterThan(elapsed, 0.3)
        XCTAssertLessThan(elapsed, 3)
        assertServerHealthy()
    }

    func testBodyTimeout() throws {
        try start { $0.bodyTimeoutSeconds = 0.5 }
        let client = try TestClient(port: port)
        defer { client.close() }
        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        XCTAssertEqual(client.readResponse()?.status, 408)
        XCTAssertTrue(client.isClosedByServer(within: 3))
        assertServerHealthy()
    }

    // MARK: Connections

    func testMaxConnectionsCap() throws {
        try start { $0.maxConnections = 2 }
        let first = try TestClient(port: port)
        let second = try TestClient(port: port)
        for client in [first, second] {
            try client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(client.readResponse()?.status, 200)
        }
        XCTAssertEqual(server?.connectionCount, 2)
        // The third is closed before TLS.
        XCTAssertThrowsError(try TestClient(port: port, timeout: 3))
        first.close()
        // Once one leaves, a new one gets in.
        var third: TestClient?
        let deadline = Date().addingTimeInterval(3)
        while third == nil && Date() < deadline {
            third = try? TestClient(port: port, timeout: 3)
            if third == nil { usleep(20_000) }
        }
        let client = try XCTUnwrap(third)
        try client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.status, 200)
        client.close()
        second.close()
    }

    func testShutdownDrainsInFlightRequest() throws {
        try start()
        let idle = try TestClient(port: port)
        defer { idle.close() }
        try idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(idle.readResponse()?.status, 200)

        let client = try TestClient(port: port)
        defer { client.close() }
        try client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(100_000)
        let server = try XCTUnwrap(self.server)
        let finished = DispatchSemaphore(value: 0)
        let started = Date()
        Thread {
            server.shutdown(drainSeconds: 5)
            finished.signal()
        }.start()
        let response = client.readResponse()
        XCTAssertEqual(response?.status, 200)
        XCTAssertEqual(response?.text, "slow")
        XCTAssertEqual(response?.header("Connection"), "close")
        XCTAssertEqual(finished.wait(timeout: .now() + 5), .success)
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        // The idle keep-alive connection was closed, and nobody new gets in.
        XCTAssertTrue(idle.isClosedByServer(within: 1))
        XCTAssertThrowsError(try TestClient(port: port, timeout: 2))
        server.waitUntilStopped()
        XCTAssertEqual(server.connectionCount, 0)
        self.server = nil
    }

    func testShutdownCutsRequestsBeyondTheDrain() throws {
        let (server, port) = try startServer()
        let client = try TestClient(port: port)
        defer { client.close() }
        try client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(50_000)
        let started = Date()
        server.shutdown(drainSeconds: 0.05)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        server.waitUntilStopped()
    }

    func testStartFailsOnBusyPort() throws {
        try start()
        let other = HTTPServer(configuration: HTTPServerConfiguration(bindAddress: "127.0.0.1", port: port),
                               tls: try TLSServerContext(configuration: TLSServerConfiguration(
                                   certificateFile: TestCertificates.path("tls.crt"),
                                   privateKeyFile: TestCertificates.path("tls.key"))),
                               handler: TestHandler())
        XCTAssertThrowsError(try other.start()) { XCTAssertTrue("\($0)".contains("bind"), "\($0)") }
        other.shutdown(drainSeconds: 0)
    }

    func testClientVanishingMidResponseDoesNotKillTheServer() throws {
        try start()
        for _ in 0..<5 {
            let client = try TestClient(port: port)
            try client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            client.connection.interrupt() // gone before the answer is written
            client.close()
        }
        usleep(400_000)
        assertServerHealthy()
    }

    func testMutualTLSOnlyLetsTheCAsClientsIn() throws {
        let tls = try TLSServerContext(configuration: TLSServerConfiguration(
            certificateFile: TestCertificates.path("tls.crt"), privateKeyFile: TestCertificates.path("tls.key"),
            clientCAFile: TestCertificates.path("ca.crt")))
        let (server, port) = try startServer(tls: tls)
        self.server = server
        self.port = port
        var good = TLSClientConfiguration(caFile: TestCertificates.path("ca.crt"))
        good.clientCertificateFile = TestCertificates.path("client.crt")
        good.clientKeyFile = TestCertificates.path("client.key")
        var other = good
        other.clientCertificateFile = TestCertificates.path("other-client.crt")
        other.clientKeyFile = TestCertificates.path("other-client.key")
        for (configuration, allowed) in [(good, true), (TLSClientConfiguration(caFile: TestCertificates.path("ca.crt")), false),
                                         (other, false), (good, true)] {
            var response: TestResponse?
            if let client = try? TestClient(port: port, configuration: configuration) {
                try? client.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
                response = client.readResponse()
                client.close()
            }
            XCTAssertEqual(response?.status, allowed ? 200 : nil)
            if allowed { XCTAssertEqual(response?.header("X-Client"), "CN=kube-apiserver-webhook-client") }
        }
    }

    func testServerPicksUpRotatedCertificate() throws {
        let serving = FileManager.default.temporaryDirectory.appendingPathComponent("serving-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: serving, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: serving) }
        for name in ["tls.crt", "tls.key"] {
            try FileManager.default.copyItem(atPath: TestCertificates.path(name), toPath: "\(serving)/\(name)")
        }
        let tls = try TLSServerContext(configuration: TLSServerConfiguration(
            certificateFile: "\(serving)/tls.crt", privateKeyFile: "\(serving)/tls.key"))
        let logged = Locked<[String]>([])
        let (server, port) = try startServer({ configuration in
            configuration.certificateCheckIntervalSeconds = 0.05
            configuration.log = { line in logged.withLock { $0.append(line) } }
        }, tls: tls)
        self.server = server
        self.port = port
        let insecure = TLSClientConfiguration(insecureSkipVerify: true)
        let before = try TestClient(port: port, configuration: insecure)
        let oldSerial = before.connection.peerCertificateSerial
        before.close()

        // A new certificate (another CA's run of the script), swapped in under the same names.
        let rotated = FileManager.default.temporaryDirectory.appendingPathComponent("rotated-\(UUID().uuidString)").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("certs/make-certs.sh").path, rotated]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        defer { try? FileManager.default.removeItem(atPath: rotated) }
        for name in ["tls.key", "tls.crt"] {
            try FileManager.default.copyItem(atPath: "\(rotated)/\(name)", toPath: "\(serving)/\(name).new")
            XCTAssertEqual(rename("\(serving)/\(name).new", "\(serving)/\(name)"), 0)
        }
        usleep(100_000)
        // The check runs when a connection arrives: this one may still get the old certificate.
        (try? TestClient(port: port, configuration: insecure))?.close()
        let after = try TestClient(port: port, configuration: TLSClientConfiguration(caFile: "\(rotated)/ca.crt"))
        XCTAssertNotEqual(after.connection.peerCertificateSerial, oldSerial)
        try after.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(after.readResponse()?.status, 200)
        after.close()
        XCTAssertTrue(logged.withLock { $0 }.contains("TLS certificate reloaded"), "\(logged.withLock { $0 })")
    }

    func testNonTLSClientIsDropped() throws {
        try start()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        XCTAssertEqual(connected, 0)
        let request = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // Whatever the server says (a TLS alert) it is not HTTP, and then it closes.
        var total = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            total += count
            XCTAssertNotEqual(buffer[0], UInt8(ascii: "H"))
        }
        assertServerHealthy()
    }
}

/// A value behind a lock, for test bookkeeping across threads.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

/// Throughput with keep-alive: `clients` connections each sending small POSTs as fast as answers come.
/// Runs briefly in every test run; HTTP_SERVER_BENCH=seconds runs it longer (use a release build).
final class HTTPServerThroughputTests: XCTestCase {
    func testKeepAliveThroughput() throws {
        let seconds = Double(ProcessInfo.processInfo.environment["HTTP_SERVER_BENCH"] ?? "") ?? 0.5
        let (server, port) = try startServer()
        defer { server.shutdown(drainSeconds: 1) }
        let clients = 16
        let body = String(repeating: "x", count: 1024)
        let request = Array("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
        let completed = Locked(0)
        let failures = Locked(0)
        let group = DispatchGroup()
        let deadline = Date().addingTimeInterval(seconds)
        for _ in 0..<clients {
            group.enter()
            Thread {
                defer { group.leave() }
                guard let client = try? TestClient(port: port) else { failures.withLock { $0 += 1 }; return }
                defer { client.close() }
                var count = 0
                while Date() < deadline {
                    guard (try? client.send(request)) != nil, client.readResponse()?.body.count == 1024 else {
                        failures.withLock { $0 += 1 }
                        break
                    }
                    count += 1
                }
                completed.withLock { $0 += count }
            }.start()
        }
        XCTAssertEqual(group.wait(timeout: .now() + seconds + 30), .success)
        XCTAssertEqual(failures.withLock { $0 }, 0)
        let total = completed.withLock { $0 }
        XCTAssertGreaterThan(total, 0)
        print("throughput: \(total) requests in \(seconds) s = \(Int(Double(total) / seconds)) requests/s with \(clients) connections (client in the same process)")
    }
}

/// Another HTTP/1.1 client than ours: curl, as a process.
final class HTTPServerCurlTests: XCTestCase {
    /// Runs curl; returns its exit status, standard output (the body) and standard error (the verbose log).
    func runCurl(_ arguments: [String]) throws -> (status: Int32, output: String, log: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "--silent", "--show-error", "--http1.1", "--max-time", "20",
                             "--cacert", TestCertificates.path("ca.crt")] + arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString)")
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: output)
            try? FileManager.default.removeItem(at: log)
        }
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: try Data(contentsOf: output), as: UTF8.self),
                String(decoding: try Data(contentsOf: log), as: UTF8.self))
    }

    func testCurlKeepAliveAndExpectContinue() throws {
        let (server, port) = try startServer()
        defer { server.shutdown(drainSeconds: 1) }
        let bodyFile = FileManager.default.temporaryDirectory.appendingPathComponent("body-\(UUID().uuidString)")
        let body = String(repeating: "0123456789abcdef", count: 128 * 1024) // 2 MiB: curl sends Expect: 100-continue
        try Data(body.utf8).write(to: bodyFile)
        defer { try? FileManager.default.removeItem(at: bodyFile) }

        // Two URLs in one curl run reuse one connection; the verbose log says so.
        let reuse = try runCurl(["--verbose", "https://localhost:\(port)/", "https://localhost:\(port)/json"])
        XCTAssertEqual(reuse.status, 0, reuse.log)
        XCTAssertEqual(reuse.output, #"ok{"ok":true}"#)
        XCTAssertTrue(reuse.log.lowercased().contains("re-using existing connection")
                      || reuse.log.lowercased().contains("reusing existing connection"), reuse.log)

        let post = try runCurl(["--verbose", "--data-binary", "@\(bodyFile.path)", "-H", "Content-Type: application/octet-stream",
                                "https://127.0.0.1:\(port)/echo?timeout=5s"])
        XCTAssertEqual(post.status, 0, post.log)
        XCTAssertTrue(post.log.contains("HTTP/1.1 100 Continue"), post.log)
        XCTAssertTrue(post.log.contains("X-Query-Timeout: 5s"), post.log)
        XCTAssertTrue(post.output == body, "the 2 MiB body came back changed")

        let chunked = try runCurl(["-H", "Transfer-Encoding: chunked", "--data-binary", "hello chunks",
                                   "https://127.0.0.1:\(port)/echo"])
        XCTAssertEqual(chunked.output, "hello chunks")

        let tooBig = try runCurl(["--data-binary", "@\(bodyFile.path)", "-H", "Expect:",
                                  "-H", "Content-Length: \(4 * 1024 * 1024)", "https://127.0.0.1:\(port)/echo",
                                  "--write-out", "\\n%{http_code}"])
        XCTAssertTrue(tooBig.output.hasSuffix("413") || tooBig.output.contains("RequestEntityTooLarge"), tooBig.output)
    }
}
