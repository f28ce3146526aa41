import Foundation
import XCTest
import COpenSSL
@testable import TLS

final class TLSTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = try makeCertificates()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func path(_ name: String) -> String { "\(directory)/\(name)" }

    func serverConfiguration(clientCA: String? = nil, minimum: TLSProtocolVersion = .tls12,
                             suites: [String] = []) -> TLSServerConfiguration {
        TLSServerConfiguration(certificateFile: path("tls.crt"), privateKeyFile: path("tls.key"),
                               clientCAFile: clientCA.map(path), minimumVersion: minimum, cipherSuites: suites)
    }

    func clientConfiguration(serverName: String? = nil) -> TLSClientConfiguration {
        TLSClientConfiguration(caFile: path("ca.crt"), serverName: serverName)
    }

    func assertHandshakeFails(port: Int, host: String = "127.0.0.1", _ configuration: TLSClientConfiguration,
                              file: StaticString = #filePath, line: UInt = #line) -> TLSError? {
        do {
            let connection = try TLSClientConnection.connect(host: host, port: port, configuration: configuration,
                                                             timeoutSeconds: 5)
            // With TLS 1.3 a refused client certificate shows up on the first read, not in the handshake.
            defer { connection.close() }
            _ = try connection.roundTrip("ping")
            XCTFail("the connection was expected to fail", file: file, line: line)
            return nil
        } catch let error as TLSError {
            return error
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return nil
        }
    }

    // MARK: Configuration

    func testProtocolVersionGoNames() {
        XCTAssertEqual(TLSProtocolVersion(goName: "VersionTLS12"), .tls12)
        XCTAssertEqual(TLSProtocolVersion(goName: "VersionTLS13"), .tls13)
        XCTAssertNil(TLSProtocolVersion(goName: "VersionTLS11"))
        XCTAssertNil(TLSProtocolVersion(goName: "VersionTLS10"))
        XCTAssertNil(TLSProtocolVersion(goName: "tls12"))
    }

    func testServerContextLoads() throws {
        let context = try TLSServerContext(configuration: serverConfiguration())
        XCTAssertFalse(try context.reloadIfChanged(), "nothing changed on disk")
    }

    func testMismatchedKeyIsRefused() {
        var configuration = serverConfiguration()
        configuration.privateKeyFile = path("client.key")
        XCTAssertThrowsError(try TLSServerContext(configuration: configuration)) { error in
            let error = error as? TLSError
            XCTAssertEqual(error?.kind, .configuration)
            XCTAssertTrue(error?.message.contains("does not match") ?? false, "\(String(describing: error))")
        }
    }

    func testMissingFileIsNamed() {
        var configuration = serverConfiguration()
        configuration.certificateFile = path("nope.crt")
        XCTAssertThrowsError(try TLSServerContext(configuration: configuration)) { error in
            XCTAssertTrue("\(error)".contains("nope.crt"), "\(error)")
            XCTAssertTrue("\(error)".contains("No such file") || "\(error)".contains("no such file"), "\(error)")
        }
    }

    func testUnknownCipherSuiteIsNamed() {
        let configuration = serverConfiguration(suites: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_MADE_UP_SUITE"])
        XCTAssertThrowsError(try TLSServerContext(configuration: configuration)) { error in
            XCTAssertTrue("\(error)".contains("TLS_MADE_UP_SUITE"), "\(error)")
        }
    }

    func testConfiguredCipherSuitesAreUsed() throws {
        let server = EchoServer(context: try TLSServerContext(configuration: serverConfiguration(
            suites: ["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"])))
        defer { server.stop() }
        var tls12 = clientConfiguration()
        tls12.maximumVersion = .tls12
        let connection12 = try TLSClientConnection.connect(host: "127.0.0.1", port: server.port, configuration: tls12,
                                                           timeoutSeconds: 5)
        defer { connection12.close() }
        XCTAssertEqual(String(cString: SSL_CIPHER_get_name(SSL_get_current_cipher(connection12.socket.ssl))),
                       "ECDHE-ECDSA-AES256-GCM-SHA384")
        let connection13 = try TLSClientConnection.connect(host: "127.0.0.1", port: server.port,
                                                           configuration: clientConfiguration(), timeoutSeconds: 5)
        defer { connection13.close() }
        XCTAssertEqual(connection13.protocolVersion, "TLSv1.3")
        XCTAssertEqual(String(cString: SSL_CIPHER_get_name(SSL_get_current_cipher(connection13.socket.ssl))),
                       "TLS_AES_256_GCM_SHA384")
    }

    func testEveryGoTLS12SuiteNameIsKnown() throws {
        let secure = ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                      "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
                      "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"]
        _ = try TLSServerContext(configuration: serverConfiguration(suites: secure))
    }

    // MARK: Verification

    func testClientVerifiesIPAndHostName() throws {
        let server = EchoServer(context: try TLSServerContext(configuration: serverConfiguration()))
        defer { server.stop() }
        for host in ["127.0.0.1", "localhost"] {
            let connection = try TLSClientConnection.connect(host: host, port: server.port,
                                                             configuration: clientConfiguration(), timeoutSeconds: 5)
            XCTAssertEqual(try connection.roundTrip("hello \(host)"), "hello \(host)")
            XCTAssertEqual(connection.peerCertificateSubject, "CN=pod-security-webhook.pod-security-webhook.svc")
            connection.close()
        }
        // The Service name, verified while connecting to the loopback address.
        let named = try TLSClientConnection.connect(
            host: "127.0.0.1", port: server.port,
            configuration: clientConfiguration(serverName: "pod-security-webhook.pod-security-webhook.svc"),
            timeoutSeconds: 5)
        XCTAssertEqual(try named.roundTrip("svc"), "svc")
        named.close()
    }

    func testClientVerifiesIPv6Loopback() throws {
        let server = EchoServer(context: try TLSServerContext(configuration: serverConfiguration()), ipv6: true)
        defer { server.stop() }
        let connection = try TLSClientConnection.connect(host: "[::1]", port: server.port,
                                                         configuration: clientConfiguration(), timeoutSeconds: 5)
        XCTAssertEqual(try connection.roundTrip("six"), "six")
        connection.close()
    }

    func testCAFromPEMBytes() throws {
        let server = EchoServer(context: try TLSServerContext(configuration: serverConfiguration()))
        defer { server.stop() }
        let pem = Array(try Data(contentsOf: URL(fileURLWithPath: path("ca.crt"))))
        let configuration = TLSClientConfiguration(caPEM: pem)
        let connection = try TLSClientConnection.connect(host: "localhost", port: server.port,
                                                         configuration: configuration, timeoutSeconds: 5)
        XCTAssertEqual(try connection.roundTrip("pem"), "pem")
        connection.close()
        XCTAssertThrowsError(try TLSClientConnection.connect(
            host: "localhost", port: server.port, configuration: TLSClientConfiguration(caPEM: Array("junk".utf8)),
            timeoutSeconds: 5))
    }

    func testWrongHostNameIsRefused() throws {
        let server = EchoServer(context: try TLSServerContext(configuration: serverConfiguration()))
        defer { server.stop() }
        let error = assertHandshakeFails(port: server.port, clientConfiguration(serverName: "example.com"))
        XCTAssertEqual(error?.kind, .handshake)
        XCTAssertTrue(error?.message.contains("verify") ?? false, "\(String(describing: error))")
    }

    func testWrongCAIsRefused() throws {
        let server = EchoServer(context: try TLSServerContext(configuration: serverConfiguration()))
        defer { server.stop() }
        let error = assertHandshakeFails(port: server.port, TLSClientConfiguration(caFile: path("other-ca.crt")))
        XCTAssertEqual(error?.kind, .handshake)
        XCTAssertTrue(error?.message.contains("certificate verify failed") ?? false, "\(String(describing: error))")
        // Skipping verification connects anyway.
        let insecure = try TLSClientConnection.connect(host: "127.0.0.1", port: server.port,
                                                       configuration: TLSClientConfiguration(insecureSkipVerify: true),
                                                       timeoutSeconds: 5)
        XCTAssertEqual(try insecure.roundTrip("x"), "x")
        insecure.close()
    }

    // MARK: Versions

    func testTLS11ClientIsRefused() throws {
        let server = EchoServer(context: try TLSServerContext(configuration: serverConfiguration()))
        defer { server.stop() }
        var configuration = clientConfiguration()
        configuration.rawProtocolRangeForTesting = TLS1_1_VERSION...TLS1_1_VERSION
        let error = assertHandshakeFails(port: server.port, configuration)
        XCTAssertEqual(error?.kind, .handshake)
        XCTAssertTrue(error?.message.contains("version") ?? false, "\(String(describing: error))")
        waitUntil { !server.failures.withLock { $0.isEmpty } }
        let serverSide = server.failures.withLock { $0.first?.message ?? "" }
        XCTAssertTrue(serverSide.contains("version") || serverSide.contains("protocol"), serverSide)
    }

    func testTLS11RefusedWithOpenSSLCommandLine() throws {
        let server = EchoServer(context: try TLSServerContext(configuration: serverConfiguration()))
        defer { server.stop() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1_1",
                             "-cipher", "DEFAULT:@SECLEVEL=0", "-CAfile", path("ca.crt")]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertNotEqual(process.terminationStatus, 0)
        waitUntil { !server.failures.withLock { $0.isEmpty } }
        XCTAssertEqual(server.failures.withLock { $0.count }, 1)
    }

    func testTLS13MinimumRefusesTLS12Client() throws {
        let server = EchoServer(context: try TLSServerContext(configuration: serverConfiguration(minimum: .tls13)))
        defer { server.stop() }
        var configuration = clientConfiguration()
        configuration.maximumVersion = .tls12
        let error = assertHandshakeFails(port: server.port, configuration)
        XCTAssertEqual(error?.kind, .handshake)
        let connection = try TLSClientConnection.connect(host: "127.0.0.1", port: server.port,
                                                         configuration: clientConfiguration(), timeoutSeconds: 5)
        XCTAssertEqual(connection.protocolVersion, "TLSv1.3")
        connection.close()
    }

    func testTLS12ServerNegotiates12And13() throws {
        let server = EchoServer(context: try TLSServerContext(configuration: serverConfiguration()))
        defer { server.stop() }
        var configuration = clientConfiguration()
        configuration.maximumVersion = .tls12
        let connection = try TLSClientConnection.connect(host: "127.0.0.1", port: server.port,
                                                         configuration: configuration, timeoutSeconds: 5)
        XCTAssertEqual(connection.protocolVersion, "TLSv1.2")
        XCTAssertEqual(try connection.roundTrip("twelve"), "twelve")
        connection.close()
    }

    // MARK: Mutual TLS

    func testMutualTLS() throws {
        let server = EchoServer(context: try TLSServerContext(configuration: serverConfiguration(clientCA: "ca.crt")))
        defer { server.stop() }
        var good = clientConfiguration()
        good.clientCertificateFile = path("client.crt")
        good.clientKeyFile = path("client.key")
        let connection = try TLSClientConnection.connect(host: "127.0.0.1", port: server.port, configuration: good,
                                                         timeoutSeconds: 5)
        XCTAssertEqual(try connection.roundTrip("mtls"), "mtls")
        connection.close()
        XCTAssertEqual(server.peerSubjects.withLock { $0 }, ["CN=kube-apiserver-webhook-client"])

        for version in [TLSProtocolVersion.tls12, .tls13] {
            var none = clientConfiguration()
            none.maximumVersion = version
            XCTAssertNotNil(assertHandshakeFails(port: server.port, none), "no client certificate, \(version)")

            var other = clientConfiguration()
            other.maximumVersion = version
            other.clientCertificateFile = path("other-client.crt")
            other.clientKeyFile = path("other-client.key")
            XCTAssertNotNil(assertHandshakeFails(port: server.port, other), "other CA's certificate, \(version)")
        }
        waitUntil { server.failures.withLock { $0.count } == 4 }
        let failures = server.failures.withLock { $0 }
        XCTAssertEqual(failures.count, 4)
        XCTAssertTrue(failures.allSatisfy { $0.kind == .handshake }, "\(failures)")
        XCTAssertEqual(server.peerSubjects.withLock { $0.count }, 1, "only the good client got through")
    }

    // MARK: Reload

    func testReloadPicksUpNewCertificate() throws {
        let serving = FileManager.default.temporaryDirectory.appendingPathComponent("serving-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: serving, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: serving) }
        try FileManager.default.copyItem(atPath: path("tls.crt"), toPath: serving + "/tls.crt")
        try FileManager.default.copyItem(atPath: path("tls.key"), toPath: serving + "/tls.key")
        let context = try TLSServerContext(configuration: TLSServerConfiguration(
            certificateFile: serving + "/tls.crt", privateKeyFile: serving + "/tls.key"))
        let server = EchoServer(context: context)
        defer { server.stop() }
        let before = try TLSClientConnection.connect(host: "127.0.0.1", port: server.port,
                                                     configuration: clientConfiguration(), timeoutSeconds: 5)
        let oldSerial = try XCTUnwrap(before.peerCertificateSerial)

        // A rotation, as cert-manager does it: new files swapped in under the same names.
        let rotated = try makeCertificates()
        defer { try? FileManager.default.removeItem(atPath: rotated) }
        for name in ["tls.key", "tls.crt"] {
            try FileManager.default.copyItem(atPath: "\(rotated)/\(name)", toPath: "\(serving)/\(name).new")
            XCTAssertEqual(rename("\(serving)/\(name).new", "\(serving)/\(name)"), 0)
        }
        XCTAssertTrue(try context.reloadIfChanged())
        XCTAssertFalse(try context.reloadIfChanged())

        let after = try TLSClientConnection.connect(host: "127.0.0.1", port: server.port,
                                                    configuration: TLSClientConfiguration(caFile: "\(rotated)/ca.crt"),
                                                    timeoutSeconds: 5)
        XCTAssertNotEqual(try XCTUnwrap(after.peerCertificateSerial), oldSerial)
        XCTAssertEqual(try after.roundTrip("new"), "new")
        XCTAssertEqual(try before.roundTrip("old connection still works"), "old connection still works")
        // The old CA no longer verifies new connections.
        XCTAssertNotNil(assertHandshakeFails(port: server.port, clientConfiguration()))
        before.close()
        after.close()
    }

    func testReloadKeepsOldContextWhenNewFilesAreBad() throws {
        let serving = FileManager.default.temporaryDirectory.appendingPathComponent("serving-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: serving, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: serving) }
        try FileManager.default.copyItem(atPath: path("tls.crt"), toPath: serving + "/tls.crt")
        try FileManager.default.copyItem(atPath: path("tls.key"), toPath: serving + "/tls.key")
        let context = try TLSServerContext(configuration: TLSServerConfiguration(
            certificateFile: serving + "/tls.crt", privateKeyFile: serving + "/tls.key"))
        try FileManager.default.removeItem(atPath: serving + "/tls.key")
        try FileManager.default.copyItem(atPath: path("client.key"), toPath: serving + "/tls.key")
        XCTAssertThrowsError(try context.reloadIfChanged())
        let server = EchoServer(context: context)
        defer { server.stop() }
        let connection = try TLSClientConnection.connect(host: "127.0.0.1", port: server.port,
                                                         configuration: clientConfiguration(), timeoutSeconds: 5)
        XCTAssertEqual(try connection.roundTrip("still serving"), "still serving")
        connection.close()
    }

    // MARK: Timeouts and interrupts

    func testReadTimeout() throws {
        let server = EchoServer(context: try TLSServerContext(configuration: serverConfiguration()))
        defer { server.stop() }
        let connection = try TLSClientConnection.connect(host: "127.0.0.1", port: server.port,
                                                         configuration: clientConfiguration(), timeoutSeconds: 5)
        defer { connection.close() }
        connection.setTimeout(seconds: 0.2)
        let start = Date()
        var buffer = [UInt8](repeating: 0, count: 16)
        XCTAssertThrowsError(try buffer.withUnsafeMutableBytes { try connection.read(into: $0) }) { error in
            XCTAssertEqual((error as? TLSError)?.kind, .timeout)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }

    func testInterruptUnblocksRead() throws {
        let server = EchoServer(context: try TLSServerContext(configuration: serverConfiguration()))
        defer { server.stop() }
        let connection = try TLSClientConnection.connect(host: "127.0.0.1", port: server.port,
                                                         configuration: clientConfiguration(), timeoutSeconds: 30)
        let interrupter = connection.interrupter
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { interrupter.interrupt() }
        let start = Date()
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = try? buffer.withUnsafeMutableBytes { try connection.read(into: $0) }
        XCTAssertTrue(count == nil || count == 0)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        connection.close()
        interrupter.interrupt() // after close: no effect, no crash
    }

    func testConnectionRefusedAndTimeout() {
        let (fd, port) = listenOnLoopback()
        close(fd)
        XCTAssertThrowsError(try TLSClientConnection.connect(host: "127.0.0.1", port: port,
                                                             configuration: clientConfiguration(), timeoutSeconds: 2))
        // A listener that never answers the handshake.
        let (silent, silentPort) = listenOnLoopback()
        defer { close(silent) }
        let start = Date()
        XCTAssertThrowsError(try TLSClientConnection.connect(host: "127.0.0.1", port: silentPort,
                                                             configuration: clientConfiguration(), timeoutSeconds: 0.3)) {
            XCTAssertEqual(($0 as? TLSError)?.kind, .timeout)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 3)
    }

    func testServerHandshakeDeadline() throws {
        let context = try TLSServerContext(configuration: serverConfiguration())
        let (listener, port) = listenOnLoopback()
        defer { close(listener) }
        // A client that connects and says nothing.
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        let accepted = accept(listener, nil, nil)
        let start = Date()
        XCTAssertThrowsError(try context.accept(socket: accepted, handshakeDeadline: .now().advanced(bySeconds: 0.2))) {
            XCTAssertEqual(($0 as? TLSError)?.kind, .timeout)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }

    /// The client connection has the shape of KubernetesClient's ByteStream (typed throws satisfy `throws`).
    func testClientConnectionFitsByteStreamShape() {
        let _: any ByteStreamShape.Type = TLSClientConnection.self
    }

    func waitUntil(timeout: Double = 5, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() && Date() < deadline { usleep(10_000) }
    }
}

protocol ByteStreamShape: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    func write(_ bytes: [UInt8]) throws
    func setTimeout(seconds: Double)
    func interrupt()
    func close()
}

extension TLSClientConnection: ByteStreamShape {}
