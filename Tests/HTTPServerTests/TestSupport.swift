import Foundation
import XCTest
import HTTPServer
import TLS

/// Certificates made once per test run by certs/make-certs.sh.
enum TestCertificates {
    static let directory: String = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let script = repository.appendingPathComponent("certs/make-certs.sh").path
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("http-tests-\(UUID().uuidString)").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, directory]
        process.standardOutput = FileHandle.nullDevice
        try! process.run()
        process.waitUntilExit()
        precondition(process.terminationStatus == 0, "make-certs.sh failed")
        return directory
    }()

    static func path(_ name: String) -> String { "\(directory)/\(name)" }
}

/// Answers by path: /echo (body back, request facts in headers), /slow (300 ms), anything else 200 "ok".
/// /slow blocks, so it declines the event loop's fast path and runs on a thread of its own; the rest answer
/// on the loop.
struct TestHandler: HTTPHandler {
    func respondWithoutBlocking(to request: HTTPRequest) -> HTTPResponse? {
        request.path.hasPrefix("/slow") ? nil : handle(request)
    }

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        switch request.path {
        case "/echo":
            return HTTPResponse(status: 200, headers: [
                ("Content-Type", "application/octet-stream"),
                ("X-Method", request.method),
                ("X-Target", request.target),
                ("X-Query-Timeout", request.queryValue("timeout") ?? "-"),
                ("X-Header-Test", request.headers["x-test"] ?? "-"),
                ("X-Remote", request.remoteAddress),
                ("X-Client", request.clientCertificateSubject ?? "-"),
            ], body: request.body)
        case "/slow":
            usleep(300_000)
            return HTTPResponse(status: 200, body: Array("slow".utf8))
        case "/json":
            return .json(#"{"ok":true}"#)
        case "/nocontent":
            return HTTPResponse(status: 204, body: Array("ignored".utf8))
        case "/bad-header":
            return HTTPResponse(status: 200, headers: [("X-Split", "a\r\nInjected: yes"), ("Content-Length", "999")],
                                body: Array("fine".utf8))
        default:
            return HTTPResponse(status: 200, body: Array("ok".utf8))
        }
    }
}

struct TestResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A TLS client that speaks raw bytes and reads HTTP/1.1 responses (Content-Length framed).
final class TestClient {
    let connection: TLSClientConnection
    private var pending: [UInt8] = []

    init(port: Int, host: String = "127.0.0.1", timeout: Double = 10,
         configuration: TLSClientConfiguration = TLSClientConfiguration(caFile: TestCertificates.path("ca.crt"))) throws {
        connection = try TLSClientConnection.connect(host: host, port: port, configuration: configuration,
                                                     timeoutSeconds: timeout)
    }

    func send(_ text: String) throws { try connection.write(Array(text.utf8)) }
    func send(_ bytes: [UInt8]) throws { try connection.write(bytes) }

    /// Reads more bytes; false at end of stream (or error).
    private func fill() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        guard let count = try? buffer.withUnsafeMutableBytes({ try connection.read(into: $0) }), count > 0 else {
            return false
        }
        pending += buffer[0..<count]
        return true
    }

    /// The next response, or nil when the server closed the connection first.
    func readResponse(headOnly: Bool = false) -> TestResponse? {
        var headEnd: Int?
        while true {
            if let range = findHeadEnd() { headEnd = range; break }
            if !fill() { return nil }
        }
        let head = String(decoding: pending[0..<headEnd!], as: UTF8.self)
        pending.removeFirst(headEnd! + 4)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        let headers = lines.map { line -> (String, String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
        }
        var response = TestResponse(status: status, headers: headers, body: [])
        let length = headOnly ? 0 : Int(response.header("Content-Length") ?? "0") ?? 0
        while pending.count < length { if !fill() { return nil } }
        response.body = Array(pending[0..<length])
        pending.removeFirst(length)
        return response
    }

    private func findHeadEnd() -> Int? {
        guard pending.count >= 4 else { return nil }
        for index in 0...(pending.count - 4)
        where pending[index] == 13 && pending[index + 1] == 10 && pending[index + 2] == 13 && pending[index + 3] == 10 {
            return index
        }
        return nil
    }

    /// True when the server closes the connection (end of stream or reset) within `seconds`.
    func isClosedByServer(within seconds: Double) -> Bool {
        connection.setTimeout(seconds: seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            do {
                let count = try buffer.withUnsafeMutableBytes { try connection.read(into: $0) }
                if count == 0 { return true }
            } catch let error as TLSError {
                return error.kind != .timeout
            } catch {
                return true
            }
        }
    }

    func close() { connection.close() }
}

/// A server on loopback with the test handler and the given limits.
func startServer(_ adjust: (inout HTTPServerConfiguration) -> Void = { _ in },
                 handler: any HTTPHandler = TestHandler(), tls: TLSServerContext? = nil) throws -> (HTTPServer, Int) {
    var configuration = HTTPServerConfiguration(bindAddress: "127.0.0.1", port: 0)
    adjust(&configuration)
    let tls = try tls ?? TLSServerContext(configuration: TLSServerConfiguration(
        certificateFile: TestCertificates.path("tls.crt"), privateKeyFile: TestCertificates.path("tls.key")))
    let server = HTTPServer(configuration: configuration, tls: tls, handler: handler)
    let port = try server.start()
    return (server, port)
}
