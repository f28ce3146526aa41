import Foundation
import StrictJSON
import XCTest
@testable import KubernetesClient

final class KubernetesClientRequestTests: XCTestCase {
    func testBearerTokenIsSentAndReReadAfterRotation() throws {
        let directory = try temporaryDirectory(self)
        let tokenFile = directory.appendingPathComponent("token")
        try "token-one\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        let standIn = try StandIn.start(token: .file(path: tokenFile.path, fallback: nil))
        defer { standIn.server.stop() }
        standIn.server.expectedToken = "token-one"
        standIn.server.setNamespace("a", labels: ["k": "v"])
        XCTAssertEqual(try standIn.client.getNamespace("a").labels, ["k": "v"])
        XCTAssertEqual(standIn.server.recordedRequests.last?.headers["authorization"], "Bearer token-one")

        // The kubelet rotates the token; the server stops accepting the old one: 401 → re-read → retry.
        try "token-two".write(to: tokenFile, atomically: true, encoding: .utf8)
        standIn.server.expectedToken = "token-two"
        XCTAssertEqual(try standIn.client.getNamespace("a").name, "a")
        let requests = standIn.server.recordedRequests
        XCTAssertEqual(requests.suffix(2).map { $0.headers["authorization"] }, ["Bearer token-one", "Bearer token-two"])
    }

    func testTokenFileIsReReadWhenOld() throws {
        let directory = try temporaryDirectory(self)
        let tokenFile = directory.appendingPathComponent("token")
        try "first".write(to: tokenFile, atomically: true, encoding: .utf8)
        let standIn = try StandIn.start(token: .file(path: tokenFile.path, fallback: nil)) { $0.tokenRefreshSeconds = 0 }
        defer { standIn.server.stop() }
        standIn.server.setNamespace("a", labels: [:])
        _ = try standIn.client.getNamespace("a")
        try "second".write(to: tokenFile, atomically: true, encoding: .utf8)
        _ = try standIn.client.getNamespace("a")
        XCTAssertEqual(standIn.server.recordedRequests.map { $0.headers["authorization"] }, ["Bearer first", "Bearer second"])
    }

    func testWrongTokenIsAnUnauthorizedError() throws {
        let standIn = try StandIn.start(token: .fixed("wrong"))
        defer { standIn.server.stop() }
        standIn.server.expectedToken = "right"
        XCTAssertThrowsError(try standIn.client.getNamespace("a")) { error in
            XCTAssertEqual((error as? KubernetesAPIError)?.statusCode, 401)
            XCTAssertEqual((error as? KubernetesAPIError)?.reason, "Unauthorized")
        }
        XCTAssertEqual(standIn.server.recordedRequests.count, 1, "a fixed token is not retried")
    }

    func testPlainHTTPForKubectlProxy() throws {
        let standIn = try StandIn.start(tls: false)
        defer { standIn.server.stop() }
        standIn.server.setNamespace("a", labels: ["x": "y"])
        XCTAssertEqual(try standIn.client.getNamespace("a").labels, ["x": "y"])
    }

    func testTLSServerWithAnUntrustedCertificateIsRefused() throws {
        // The stand-in serves a certificate from certs/make-certs.sh; a client trusting another CA refuses it.
        let other = try temporaryDirectory(self)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                             "-subj", "/CN=other-ca", "-keyout", other.appendingPathComponent("k").path,
                             "-out", other.appendingPathComponent("ca.crt").path]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let standIn = try StandIn.start { $0.certificateAuthority = .file(other.appendingPathComponent("ca.crt").path) }
        defer { standIn.server.stop() }
        standIn.server.setNamespace("a", labels: [:])
        XCTAssertThrowsError(try standIn.client.getNamespace("a")) { error in
            XCTAssertTrue("\(error)".contains("TLS"), "\(error)")
        }
        XCTAssertEqual(standIn.server.recordedRequests.count, 0, "no request reaches an unverified server")
    }

    func testCertificateAuthorityAsInlineData() throws {
        let certificates = try TestCertificates.shared()
        let pem = try Data(contentsOf: URL(fileURLWithPath: certificates.directory + "/ca.crt"))
        let standIn = try StandIn.start { $0.certificateAuthority = .data(Array(pem)) }
        defer { standIn.server.stop() }
        standIn.server.setNamespace("a", labels: ["k": "v"])
        XCTAssertEqual(try standIn.client.getNamespace("a").labels, ["k": "v"])
    }

    func testKeepAliveReusesOneConnection() throws {
        let standIn = try StandIn.start()
        defer { standIn.server.stop() }
        standIn.server.setNamespace("a", labels: [:])
        for _ in 0..<5 { _ = try standIn.client.getNamespace("a") }
        XCTAssertThrowsError(try standIn.client.getNamespace("nope"))
        _ = try standIn.client.getNamespace("a")
        XCTAssertEqual(standIn.server.connectionsAccepted, 1)
        XCTAssertEqual(standIn.server.recordedRequests.count, 7)
    }

    func testConcurrentRequestsEachGetAConnection() throws {
        let standIn = try StandIn.start()
        defer { standIn.server.stop() }
        for index in 0..<8 { standIn.server.setNamespace("ns-\(index)", labels: ["i": "\(index)"]) }
        let client = standIn.client
        let failures = LogLines()
        DispatchQueue.concurrentPerform(iterations: 32) { iteration in
            let name = "ns-\(iteration % 8)"
            do {
                if try client.getNamespace(name).labels != ["i": "\(iteration % 8)"] { failures.append("wrong labels for \(name)") }
            } catch { failures.append("\(error)") }
        }
        XCTAssertEqual(failures.all, [])
    }

    func testListPodsPagesWithContinueTokens() throws {
        let standIn = try StandIn.start()
        defer { standIn.server.stop() }
        standIn.server.setPods(namespace: "team-a", count: 7)
        var names: [String] = []
        var token: String?
        var pages = 0
        repeat {
            let page = try standIn.client.listPods(namespace: "team-a", limit: 3, continueToken: token,
                                                   deadline: .now + .seconds(30))
            names += page.items.compactMap { $0["metadata"]?["name"]?.stringValue }
            token = page.continueToken
            pages += 1
        } while token != nil
        XCTAssertEqual(pages, 3)
        XCTAssertEqual(names, (0..<7).map { "pod-\($0)" })
        let requests = standIn.server.recordedRequests
        XCTAssertEqual(requests.map { $0.query["limit"] }, ["3", "3", "3"])
        XCTAssertEqual(requests.map { $0.query["continue"] }, [nil, "3", "6"])
        XCTAssertEqual(requests.first?.path, "/api/v1/namespaces/team-a/pods")
    }

    func testListPodsPastItsDeadlineFails() throws {
        let standIn = try StandIn.start()
        defer { standIn.server.stop() }
        XCTAssertThrowsError(try standIn.client.listPods(namespace: "a", limit: 10, continueToken: nil, deadline: .now - .seconds(1))) { error in
            XCTAssertEqual((error as? KubernetesAPIError)?.reason, "Timeout")
        }
    }

    func testSilentServerIsBoundedByTheDeadline() throws {
        // A listener that accepts but never answers.
        let listener = try SilentListener()
        defer { listener.close() }
        let configuration = KubernetesClientConfiguration(scheme: .http, host: "127.0.0.1", port: listener.port)
        let client = try KubernetesClient(configuration: configuration)
        XCTAssertThrowsError(try client.listPods(namespace: "a", limit: 10, continueToken: nil, deadline: .now + .milliseconds(300))) { error in
            XCTAssertNil((error as? KubernetesAPIError)?.statusCode)
        }
    }

    /// The live namespace GET of a review is bounded by the review's deadline (the apiserver's `?timeout=`),
    /// not only by the client's own timeouts.
    func testNamespaceGetIsBoundedByTheDeadline() throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let configuration = KubernetesClientConfiguration(scheme: .http, host: "127.0.0.1", port: listener.port)
        let client = try KubernetesClient(configuration: configuration)
        let started = ContinuousClock.now
        XCTAssertThrowsError(try client.getNamespace("a", deadline: .now + .milliseconds(300))) { error in
            XCTAssertNil((error as? KubernetesAPIError)?.statusCode)
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5), "bounded by the deadline, not the client's 10 s")
        XCTAssertThrowsError(try client.getNamespace("a", deadline: .now - .seconds(1))) { error in
            XCTAssertEqual((error as? KubernetesAPIError)?.reason, "Timeout")
        }
    }

    func testNamespaceNameIsPercentEncoded() throws {
        let standIn = try StandIn.start()
        defer { standIn.server.stop() }
        XCTAssertThrowsError(try standIn.client.getNamespace("a/b?c"))
        XCTAssertEqual(standIn.server.recordedRequests.last?.target, "/api/v1/namespaces/a%2Fb%3Fc")
    }
}

/// A TCP listener that accepts connections and never answers.
final class SilentListener {
    let fd: Int32
    let port: Int
    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 8) == 0 else { throw TransportError("listen failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }
    func close() { Glibc.close(fd) }
}
