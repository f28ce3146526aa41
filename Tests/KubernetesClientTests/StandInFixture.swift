import Foundation
import StrictJSON
import TLS
import XCTest
@testable import KubernetesClient

/// A stand-in API server and a client configured for it.
struct StandIn {
    let server: FakeAPIServer
    let configuration: KubernetesClientConfiguration
    let client: KubernetesClient

    /// Starts a stand-in on 127.0.0.1 and a client for it: over TLS with certificates from certs/make-certs.sh
    /// (as the API server is reached in a cluster), or plain HTTP (as through `kubectl proxy`).
    static func start(tls: Bool = true, token: KubernetesClientConfiguration.BearerTokenSource = .none,
                      adjust: (inout KubernetesClientConfiguration) -> Void = { _ in }) throws -> StandIn {
        let server: FakeAPIServer
        var configuration: KubernetesClientConfiguration
        if tls {
            let certificates = try TestCertificates.shared()
            let context = try TLSServerContext(configuration: TLSServerConfiguration(
                certificateFile: certificates.directory + "/tls.crt", privateKeyFile: certificates.directory + "/tls.key"))
            server = try FakeAPIServer(wrap: { fd in TLSStandInConnection(context: context, fd: fd) })
            configuration = KubernetesClientConfiguration(scheme: .https, host: "127.0.0.1", port: server.port, bearerToken: token)
            configuration.certificateAuthority = .file(certificates.directory + "/ca.crt")
        } else {
            server = try FakeAPIServer()
            configuration = KubernetesClientConfiguration(scheme: .http, host: "127.0.0.1", port: server.port, bearerToken: token)
        }
        configuration.requestTimeoutSeconds = 10
        adjust(&configuration)
        let client = try KubernetesClient(configuration: configuration)
        return StandIn(server: server, configuration: configuration, client: client)
    }
}

/// A fresh temporary directory, removed at the end of the test.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("kubeclient-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Collects log lines from the cache.
final class LogLines: @unchecked Sendable {  // guarded by lock
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}

/// The stand-in's side of a TLS connection.
final class TLSStandInConnection: StandInConnection {
    private let connection: TLSConnection
    private let fd: Int32

    init?(context: TLSServerContext, fd: Int32) {
        guard let connection = try? context.accept(socket: fd, handshakeDeadline: MonotonicInstant.now().advanced(bySeconds: 10)) else {
            return nil
        }
        self.connection = connection
        self.fd = fd
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int { (try? connection.read(into: buffer)) ?? -1 }
    func write(_ bytes: [UInt8]) -> Bool { (try? connection.write(bytes)) != nil }
    func peerClosed() -> Bool { socketPeerClosed(fd) }
    func close() { connection.interrupt(); connection.close() }
}

/// Certificates made once per test run by certs/make-certs.sh.
final class TestCertificates: @unchecked Sendable {  // immutable after init; creation under the lock
    let directory: String
    private init(directory: String) { self.directory = directory }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: TestCertificates?

    static func shared(file: StaticString = #filePath) throws -> TestCertificates {
        lock.lock()
        defer { lock.unlock() }
        if let made { return made }
        let repository = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubeclient-certs-\(UUID().uuidString)").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [repository.appendingPathComponent("certs/make-certs.sh").path, directory]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TransportError("certs/make-certs.sh failed") }
        let certificates = TestCertificates(directory: directory)
        made = certificates
        return certificates
    }
}
