import Foundation
import StrictJSON
import XCTest
@testable import KubernetesClient

final class ConfigurationTests: XCTestCase {
    private let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

    private func kubeconfig(cluster: String, user: String, extraTop: String = "\"current-context\": \"dev\",") throws -> JSONValue {
        try JSONParser.parse("""
        {"apiVersion": "v1", "kind": "Config", \(extraTop)
         "contexts": [{"name": "other", "context": {"cluster": "nowhere", "user": "nobody"}},
                      {"name": "dev", "context": {"cluster": "c1", "user": "u1", "namespace": "team-a"}}],
         "clusters": [{"name": "c1", "cluster": \(cluster)}],
         "users": [{"name": "u1", "user": \(user)}]}
        """)
    }

    private func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    private func expectError(_ body: @autoclosure () throws -> Any, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(expected), "\"\(error)\" should contain \"\(expected)\"", file: file, line: line)
        }
    }

    func testKubeconfigWithClientCertificateDataAndToken() throws {
        let value = try kubeconfig(
            cluster: #"{"server": "https://api.example.com:6443", "certificate-authority-data": "\#(base64(pem))"}"#,
            user: #"{"client-certificate-data": "\#(base64(pem))", "client-key-data": "\#(base64("-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n"))", "token": "abc"}"#)
        let configuration = try KubernetesClientConfiguration.kubeconfig(value, directory: "/etc/kube")
        XCTAssertEqual(configuration.scheme, .https)
        XCTAssertEqual(configuration.host, "api.example.com")
        XCTAssertEqual(configuration.port, 6443)
        XCTAssertEqual(configuration.namespace, "team-a")
        XCTAssertEqual(configuration.certificateAuthority, .data(Array(pem.utf8)))
        XCTAssertEqual(configuration.clientCertificate, .data(Array(pem.utf8)))
        guard case .data(let key)? = configuration.clientKey else { return XCTFail("no key") }
        XCTAssertTrue(String(decoding: key, as: UTF8.self).hasPrefix("-----BEGIN PRIVATE KEY-----"))
        XCTAssertEqual(configuration.bearerToken, .fixed("abc"))
        XCTAssertFalse(configuration.insecureSkipTLSVerify)
    }

    func testKubeconfigRelativePathsResolveAgainstItsDirectory() throws {
        let directory = try temporaryDirectory(self)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("pki"), withIntermediateDirectories: true)
        for name in ["pki/ca.crt", "pki/client.crt", "pki/client.key", "token"] {
            try "x".write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let value = try kubeconfig(
            cluster: #"{"server": "https://[fd00::1]/k8s/clusters/c-1/", "certificate-authority": "pki/ca.crt"}"#,
            user: #"{"client-certificate": "pki/client.crt", "client-key": "\#(directory.path)/pki/client.key", "tokenFile": "token", "token": "fallback"}"#)
        let configuration = try KubernetesClientConfiguration.kubeconfig(value, directory: directory.path)
        XCTAssertEqual(configuration.host, "fd00::1")
        XCTAssertEqual(configuration.port, 443)
        XCTAssertEqual(configuration.basePath, "/k8s/clusters/c-1")
        XCTAssertEqual(configuration.hostHeader, "[fd00::1]")
        XCTAssertEqual(configuration.certificateAuthority, .file(directory.path + "/pki/ca.crt"))
        XCTAssertEqual(configuration.clientCertificate, .file(directory.path + "/pki/client.crt"))
        XCTAssertEqual(configuration.clientKey, .file(directory.path + "/pki/client.key"))
        XCTAssertEqual(configuration.bearerToken, .file(path: directory.path + "/token", fallback: "fallback"))
    }

    func testKubeconfigContextOverride() throws {
        let value = try JSONParser.parse("""
        {"contexts": [{"name": "a", "context": {"cluster": "ca"}}, {"name": "b", "context": {"cluster": "cb"}}],
         "clusters": [{"name": "ca", "cluster": {"server": "https://a.example"}}, {"name": "cb", "cluster": {"server": "https://b.example:8443"}}],
         "current-context": "a"}
        """)
        XCTAssertEqual(try KubernetesClientConfiguration.kubeconfig(value, directory: "/").host, "a.example")
        let b = try KubernetesClientConfiguration.kubeconfig(value, directory: "/", context: "b")
        XCTAssertEqual(b.host, "b.example")
        XCTAssertEqual(b.port, 8443)
        XCTAssertEqual(b.bearerToken, .none, "a context without a user sends no credentials")
    }

    func testKubeconfigErrors() throws {
        let good = #"{"server": "https://api:6443"}"#
        expectError(try KubernetesClientConfiguration.kubeconfig(try kubeconfig(cluster: good, user: "{}", extraTop: ""), directory: "/"),
                    "current-context is not set")
        expectError(try KubernetesClientConfiguration.kubeconfig(try kubeconfig(cluster: good, user: "{}"), directory: "/", context: "prod"),
                    "context \"prod\" is not in contexts")
        expectError(try KubernetesClientConfiguration.kubeconfig(try kubeconfig(cluster: good, user: "{}"), directory: "/", context: "other"),
                    "cluster \"nowhere\" is not in clusters")
        expectError(try KubernetesClientConfiguration.kubeconfig(.array([]), directory: "/"), "not a mapping")
        let cases: [(String, String, String)] = [
            (#"{}"#, "{}", "no server"),
            (#"{"server": "api.example.com:6443"}"#, "{}", "is not an https:// (or http://) URL"),
            (#"{"server": "https://api:99999"}"#, "{}", "invalid port"),
            (#"{"server": "https://[::1"}"#, "{}", "unclosed IPv6 bracket"),
            (#"{"server": "https://api", "insecure-skip-tls-verify": true}"#, "{}", "insecure-skip-tls-verify is set; refusing"),
            (#"{"server": "https://api", "insecure-skip-tls-verify": "yes"}"#, "{}", "must be a boolean"),
            (#"{"server": "https://api", "certificate-authority": "/nonexistent/ca.crt"}"#, "{}", "/nonexistent/ca.crt does not exist"),
            (#"{"server": "https://api", "certificate-authority-data": "!!!"}"#, "{}", "certificate-authority-data is not valid base64"),
            (#"{"server": "https://api", "certificate-authority-data": "aGVsbG8="}"#, "{}", "does not decode to PEM"),
            (#"{"server": "https://api", "certificate-authority": "a", "certificate-authority-data": "b"}"#, "{}", "are both set"),
            (#"{"server": "https://api", "proxy-url": "http://proxy"}"#, "{}", "proxy-url is not supported"),
            (good, #"{"exec": {"command": "aws"}}"#, "exec credential plugins are not supported"),
            (good, #"{"auth-provider": {"name": "oidc"}}"#, "auth-provider credential plugins are not supported"),
            (good, #"{"username": "admin", "password": "x"}"#, "basic authentication"),
            (good, #"{"as": "someone"}"#, "impersonation"),
            (good, #"{"client-certificate-data": "\#(base64(pem))"}"#, "needs a client key"),
            (good, #"{"token": 5}"#, "token must be a string, not a number"),
            (good, #"{"tokenFile": "/nonexistent/token"}"#, "tokenFile /nonexistent/token does not exist"),
            (#"{"server": "http://127.0.0.1:8001"}"#, #"{"token": "t"}"#, "refusing to send credentials over plain http://"),
        ]
        for (cluster, user, expected) in cases {
            expectError(try KubernetesClientConfiguration.kubeconfig(try kubeconfig(cluster: cluster, user: user), directory: "/"), expected)
        }
    }

    func testInsecureSkipTLSVerifyHonouredOnlyWhenAllowed() throws {
        let value = try kubeconfig(cluster: #"{"server": "https://api", "insecure-skip-tls-verify": true}"#, user: "{}")
        let configuration = try KubernetesClientConfiguration.kubeconfig(value, directory: "/", allowInsecureSkipTLSVerify: true)
        XCTAssertTrue(configuration.insecureSkipTLSVerify)
    }

    func testPlainHTTPWithoutCredentialsIsAccepted() throws {
        let value = try kubeconfig(cluster: #"{"server": "http://127.0.0.1:8001"}"#, user: "{}")
        let configuration = try KubernetesClientConfiguration.kubeconfig(value, directory: "/")
        XCTAssertEqual(configuration.scheme, .http)
        XCTAssertEqual(configuration.port, 8001)
        XCTAssertEqual(configuration.hostHeader, "127.0.0.1:8001")
    }

    func testNotInClusterWithoutTheEnvironment() throws {
        XCTAssertNil(try KubernetesClientConfiguration.inCluster(environment: [:], serviceAccountDirectory: "/nonexistent"))
        XCTAssertNil(try KubernetesClientConfiguration.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1"], serviceAccountDirectory: "/nonexistent"))
        XCTAssertNil(try KubernetesClientConfiguration.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "", "KUBERNETES_SERVICE_PORT": "443"], serviceAccountDirectory: "/nonexistent"))
        if ProcessInfo.processInfo.environment["KUBERNETES_SERVICE_HOST"] == nil {
            XCTAssertNil(try InClusterConfig.detect(serviceAccountDirectory: "/nonexistent"))
        }
    }

    func testInClusterConfiguration() throws {
        let directory = try temporaryDirectory(self)
        try "the-token\n".write(to: directory.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        try pem.write(to: directory.appendingPathComponent("ca.crt"), atomically: true, encoding: .utf8)
        try "webhook-system\n".write(to: directory.appendingPathComponent("namespace"), atomically: true, encoding: .utf8)
        let environment = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]
        let configuration = try XCTUnwrap(KubernetesClientConfiguration.inCluster(environment: environment, serviceAccountDirectory: directory.path))
        XCTAssertEqual(configuration.host, "10.96.0.1")
        XCTAssertEqual(configuration.port, 443)
        XCTAssertEqual(configuration.namespace, "webhook-system")
        XCTAssertEqual(configuration.certificateAuthority, .file(directory.path + "/ca.crt"))
        XCTAssertEqual(configuration.bearerToken, .file(path: directory.path + "/token", fallback: nil))
        let ipv6 = try XCTUnwrap(KubernetesClientConfiguration.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00:10:96::1", "KUBERNETES_SERVICE_PORT": "443"], serviceAccountDirectory: directory.path))
        XCTAssertEqual(ipv6.hostHeader, "[fd00:10:96::1]")
    }

    func testInClusterErrors() throws {
        let directory = try temporaryDirectory(self)
        let environment = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]
        expectError(try KubernetesClientConfiguration.inCluster(environment: environment, serviceAccountDirectory: directory.path) as Any, "token: No such file")
        try "".write(to: directory.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        expectError(try KubernetesClientConfiguration.inCluster(environment: environment, serviceAccountDirectory: directory.path) as Any, "is empty")
        try "t".write(to: directory.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        expectError(try KubernetesClientConfiguration.inCluster(environment: environment, serviceAccountDirectory: directory.path) as Any, "ca.crt does not exist")
        expectError(try KubernetesClientConfiguration.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "h", "KUBERNETES_SERVICE_PORT": "https"],
                                                                serviceAccountDirectory: directory.path) as Any, "not a port number")
    }

    func testBase64() {
        XCTAssertEqual(Base64.decode("aGVsbG8gd29ybGQ="), Array("hello world".utf8))
        XCTAssertEqual(Base64.decode("aGVs\nbG8"), Array("hello".utf8))
        XCTAssertNil(Base64.decode("aGVsbG8*"))
        XCTAssertNil(Base64.decode("aGVs=bG8"))
    }
}
