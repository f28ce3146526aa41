import Foundation
import TLS
import XCTest

/// `pod-security-webhook serve` as a real process: its first log line, SIGTERM draining an in-flight
/// request and exiting 0, startup failures.
final class ServeProcessTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let certificates: String = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("serve-tests-\(UUID().uuidString)").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [repository.appendingPathComponent("certs/make-certs.sh").path, directory]
        process.standardOutput = FileHandle.nullDevice
        try! process.run()
        process.waitUntilExit()
        return directory
    }()

    /// A running `serve` process and the lines it has logged so far.
    final class Server: @unchecked Sendable {  // `lines` is guarded by `lock`
        let process = Process()
        private let lock = NSLock()
        private var collected: [String] = []
        private var partial = Data()

        init(arguments: [String]) throws {
            process.executableURL = WebhookBinary.url
            process.arguments = arguments
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            out.fileHandleForReading.readabilityHandler = { [weak self] handle in
                guard let self else { return }
                let data = handle.availableData
                self.lock.lock()
                self.partial.append(data)
                while let newline = self.partial.firstIndex(of: 10) {
                    self.collected.append(String(decoding: self.partial[self.partial.startIndex..<newline], as: UTF8.self))
                    self.partial.removeSubrange(self.partial.startIndex...newline)
                }
                self.lock.unlock()
            }
            try process.run()
        }

        var lines: [String] { lock.lock(); defer { lock.unlock() }; return collected }

        /// The port from the "serving" line, once it appears.
        func waitForPort(timeout: TimeInterval = 20) -> Int? {
            let end = Date().addingTimeInterval(timeout)
            while Date() < end {
                for line in lines where line.contains(#""msg":"serving""#) {
                    if let range = line.range(of: #""port":"#) {
                        return Int(line[range.upperBound...].prefix { $0.isNumber })
                    }
                }
                if !process.isRunning { return nil }
                Thread.sleep(forTimeInterval: 0.02)
            }
            return nil
        }

        func waitForExit(timeout: TimeInterval = 20) -> Int32? {
            let end = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < end { Thread.sleep(forTimeInterval: 0.02) }
            return process.isRunning ? nil : process.terminationStatus
        }

        deinit { if process.isRunning { process.terminate() } }
    }

    func serveArguments(_ extra: [String] = []) -> [String] {
        ["serve", "--bind-address", "127.0.0.1", "--secure-port", "0",
         "--tls-cert-file", Self.certificates + "/tls.crt", "--tls-private-key-file", Self.certificates + "/tls.key"] + extra
    }

    func connect(_ port: Int) throws -> TLSClientConnection {
        let connection = try TLSClientConnection.connect(
            host: "127.0.0.1", port: port, configuration: TLSClientConfiguration(caFile: Self.certificates + "/ca.crt"),
            timeoutSeconds: 10)
        connection.setTimeout(seconds: 10)
        return connection
    }

    func readAll(_ connection: TLSClientConnection) -> String {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while let count = try? chunk.withUnsafeMutableBytes({ try connection.read(into: $0) }), count > 0 {
            received.append(contentsOf: chunk[..<count])
            if String(decoding: received, as: UTF8.self).contains("\"response\"") { break }
        }
        return String(decoding: received, as: UTF8.self)
    }

    func testFirstLogLineSaysDefaultsOnlyWithoutClusterAccess() throws {
        let server = try Server(arguments: serveArguments())
        XCTAssertNotNil(server.waitForPort())
        let first = try XCTUnwrap(server.lines.first)
        XCTAssertTrue(first.contains(#""msg":"starting pod-security-webhook""#), first)
        XCTAssertTrue(first.contains("configuration defaults only"), first)
        XCTAssertTrue(first.contains("enforce=privileged:latest"), first)
        XCTAssertTrue(first.contains(#""eventLoops":"#), first)
        server.process.terminate()
        XCTAssertEqual(server.waitForExit(), 0)
    }

    /// `--event-loops` sets how many loops serve, and every one of them serves: more connections than loops,
    /// handed out in turn, each answered.
    func testEventLoopsFlagSetsTheLoopsThatServe() throws {
        let server = try Server(arguments: serveArguments(["--event-loops", "3"]))
        let port = try XCTUnwrap(server.waitForPort())
        let first = try XCTUnwrap(server.lines.first)
        XCTAssertTrue(first.contains(#""eventLoops":3"#), first)
        for _ in 0..<6 {
            let connection = try connect(port)
            try connection.write(Array("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while let count = try? chunk.withUnsafeMutableBytes({ try connection.read(into: $0) }), count > 0 {
                received.append(contentsOf: chunk[..<count])
            }
            XCTAssertTrue(String(decoding: received, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
            connection.close()
        }
        server.process.terminate()
        XCTAssertEqual(server.waitForExit(), 0)
    }

    func testSIGTERMFinishesTheInFlightRequestThenExitsZero() throws {
        let config = Self.repository.appendingPathComponent("bench/bench-config.yaml").path
        let server = try Server(arguments: serveArguments(["--config", config, "--shutdown-grace-period", "10"]))
        let port = try XCTUnwrap(server.waitForPort())
        let body = try Data(contentsOf: Self.repository.appendingPathComponent("bench/review-pod-restricted-denied.json"))
        let connection = try connect(port)
        // Half a request is in flight when SIGTERM arrives; the rest follows after it.
        let head = "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
        try connection.write(Array(head.utf8) + Array(body.prefix(body.count / 2)))
        Thread.sleep(forTimeInterval: 0.2)
        kill(server.process.processIdentifier, SIGTERM)
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertTrue(server.process.isRunning, "the server waits for the request in flight")
        XCTAssertThrowsError(try connect(port).write(Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8)) ,
                             "no new connections after SIGTERM") { _ in }
        try connection.write(Array(body.suffix(from: body.count / 2)))
        let response = readAll(connection)
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 200"), response)
        XCTAssertTrue(response.contains(#""allowed":false"#), response)
        connection.close()
        XCTAssertEqual(server.waitForExit(), 0)
        XCTAssertTrue(server.lines.contains { $0.contains("received signal SIGTERM") })
        XCTAssertTrue(server.lines.last?.contains(#""msg":"stopped""#) == true, server.lines.last ?? "")
    }

    func testStartupFailuresExitNonZeroWithTheReason() throws {
        let missing = try WebhookBinary.run(serveArguments(["--config", "/nonexistent/config.yaml"]))
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("--config /nonexistent/config.yaml"), missing.stderr)

        let usage = try WebhookBinary.run(["serve", "--secure-port", "99999"])
        XCTAssertEqual(usage.status, 2)
        XCTAssertTrue(usage.stderr.contains("--secure-port"), usage.stderr)

        for loops in ["0", "65", "two", ""] {
            let invalid = try WebhookBinary.run(serveArguments(["--event-loops", loops]))
            XCTAssertEqual(invalid.status, 2, loops)
            XCTAssertTrue(invalid.stderr.contains("invalid --event-loops \(loops.debugDescription): must be a whole number from 1 to 64"),
                          invalid.stderr)
        }
    }
}
