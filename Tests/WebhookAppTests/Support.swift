import Foundation
import StrictJSON
import TLS
import WebhookApp
import XCTest

/// Certificates made once per run by certs/make-certs.sh (CA, serving, client, and an unrelated CA's client).
enum Certificates {
    static let directory: String = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("webhook-tests-\(UUID().uuidString)").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [repository.appendingPathComponent("certs/make-certs.sh").path, directory]
        process.standardOutput = FileHandle.nullDevice
        try! process.run()
        process.waitUntilExit()
        precondition(process.terminationStatus == 0, "certs/make-certs.sh failed")
        return directory
    }()

    static func path(_ name: String) -> String { directory + "/" + name }
}

/// The repository's root, for sample reviews in bench/ and manifests in deploy/.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func sample(_ name: String) throws -> [UInt8] {
    Array(try Data(contentsOf: repositoryRoot.appendingPathComponent("bench/\(name)")))
}

/// A parsed HTTP response.
struct Response {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    func json() throws -> JSONValue { try JSONParser.parse(body) }
}

/// A minimal HTTP/1.1 client over a real TLS connection, for talking to the webhook in tests.
final class TestClient {
    let connection: TLSClientConnection
    private var buffer: [UInt8] = []

    init(port: Int, clientCertificate: String? = nil, clientKey: String? = nil,
         rawProtocolRange: ClosedRange<Int32>? = nil) throws {
        var configuration = TLSClientConfiguration(caFile: Certificates.path("ca.crt"))
        configuration.clientCertificateFile = clientCertificate
        configuration.clientKeyFile = clientKey
        configuration.rawProtocolRangeForTesting = rawProtocolRange
        connection = try TLSClientConnection.connect(host: "127.0.0.1", port: port, configuration: configuration,
                                                     timeoutSeconds: 10)
        connection.setTimeout(seconds: 10)
    }

    deinit { connection.close() }

    func send(_ raw: [UInt8]) throws { try connection.write(raw) }

    func request(_ method: String, _ target: String, body: [UInt8] = [], contentType: String? = "application/json",
                 extraHeaders: [String] = []) throws -> Response {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        if method == "POST" || !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
        for header in extraHeaders { head += header + "\r\n" }
        head += "\r\n"
        try send(Array(head.utf8) + body)
        return try readResponse()
    }

    func readResponse() throws -> Response {
        while true {
            if let end = headEnd() {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                var lines = head.components(separatedBy: "\r\n")
                let statusLine = lines.removeFirst().split(separator: " ")
                let status = Int(statusLine[1])!
                var headers: [String: String] = [:]
                for line in lines where !line.isEmpty {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces)
                }
                let length = Int(headers["content-length"] ?? "0")!
                while buffer.count < end + 4 + length { try fill() }
                let body = Array(buffer[(end + 4)..<(end + 4 + length)])
                buffer.removeFirst(end + 4 + length)
                return Response(status: status, headers: headers, body: body)
            }
            try fill()
        }
    }

    /// True when the server closed the connection (read returns end of stream).
    func isClosedByServer() -> Bool {
        var byte = [UInt8](repeating: 0, count: 1)
        let count = try? byte.withUnsafeMutableBytes { try connection.read(into: $0) }
        return count == nil || count == 0
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 16384)
        let count = try chunk.withUnsafeMutableBytes { try connection.read(into: $0) }
        if count == 0 { throw TLSError(.connection, "connection closed by the server") }
        buffer.append(contentsOf: chunk[..<count])
    }

    private func headEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4) where buffer[index] == 13 && buffer[index + 1] == 10
            && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }
}

/// Captures the webhook's log lines (it writes to a file descriptor: a pipe here).
final class CapturedLog: @unchecked Sendable {  // the pipe is read only after the writer is done
    let pipe = Pipe()
    var descriptor: Int32 { pipe.fileHandleForWriting.fileDescriptor }
    func lines() -> [String] {
        try? pipe.fileHandleForWriting.close()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
