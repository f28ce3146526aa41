import Foundation
import StrictJSON
import XCTest
@testable import KubernetesClient

/// A stand-in API server and a client configured for it.
struct StandIn {
    let server: FakeAPIServer
    let configuration: KubernetesClientConfiguration
    let client: KubernetesClient

    /// Starts a stand-in on 127.0.0.1 and a client for it.
    static func start(token: KubernetesClientConfiguration.BearerTokenSource = .none,
                      adjust: (inout KubernetesClientConfiguration) -> Void = { _ in }) throws -> StandIn {
        let server = try FakeAPIServer()
        var configuration = KubernetesClientConfiguration(scheme: .http, host: "127.0.0.1", port: server.port, bearerToken: token)
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
