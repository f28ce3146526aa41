import Foundation
import HTTPServer
import StrictJSON
import TLS
import WebhookApp
import XCTest

/// A small API server stand-in built on the project's own HTTP server, over TLS: namespaces (list, watch, get)
/// and pods (list), with the wire format the apiserver uses. A watch answers with no events and ends; the
/// cache watches again, as after any dropped watch.
final class StandInAPIServer: HTTPHandler, @unchecked Sendable {  // state behind `lock`
    private let lock = NSLock()
    private var namespaces: [String: [String: String]] = [:]
    private var pods: [String: [JSONValue]] = [:]
    private(set) var requests: [String] = []

    func setNamespace(_ name: String, labels: [String: String]) { lock.withLock { namespaces[name] = labels } }
    func setPods(_ namespace: String, _ items: [JSONValue]) { lock.withLock { pods[namespace] = items } }
    var requestLog: [String] { lock.withLock { requests } }

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        lock.withLock { requests.append("\(request.method) \(request.target)") }
        let segments = request.path.split(separator: "/").map(String.init)
        guard request.method == "GET", segments.count >= 3, segments[0] == "api", segments[1] == "v1", segments[2] == "namespaces" else {
            return HTTPResponse.status(404, message: "not found")
        }
        switch segments.count {
        case 3 where request.queryValue("watch") != nil:
            Thread.sleep(forTimeInterval: 0.05)
            return HTTPResponse.json(Array<UInt8>())
        case 3:
            let items = lock.withLock { namespaces.map { namespaceJSON($0.key, $0.value) } }
            return HTTPResponse.json(JSONValue.object(JSONObject([
                .init(key: "kind", value: .string("NamespaceList")), .init(key: "apiVersion", value: .string("v1")),
                .init(key: "metadata", value: .object(JSONObject([.init(key: "resourceVersion", value: .string("100"))]))),
                .init(key: "items", value: .array(items)),
            ])).serialized())
        case 4:
            guard let labels = lock.withLock({ namespaces[segments[3]] }) else {
                return HTTPResponse.status(404, message: "namespaces \"\(segments[3])\" not found", reason: "NotFound")
            }
            return HTTPResponse.json(namespaceJSON(segments[3], labels).serialized())
        case 5 where segments[4] == "pods":
            let items = lock.withLock { pods[segments[3]] ?? [] }
            return HTTPResponse.json(JSONValue.object(JSONObject([
                .init(key: "kind", value: .string("PodList")), .init(key: "apiVersion", value: .string("v1")),
                .init(key: "metadata", value: .object(JSONObject([.init(key: "resourceVersion", value: .string("100"))]))),
                .init(key: "items", value: .array(items)),
            ])).serialized())
        default:
            return HTTPResponse.status(404, message: "not found")
        }
    }

    private func namespaceJSON(_ name: String, _ labels: [String: String]) -> JSONValue {
        .object(JSONObject([
            .init(key: "kind", value: .string("Namespace")), .init(key: "apiVersion", value: .string("v1")),
            .init(key: "metadata", value: .object(JSONObject([
                .init(key: "name", value: .string(name)), .init(key: "resourceVersion", value: .string("100")),
                .init(key: "labels", value: .object(JSONObject(labels.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: .string($0.value)) }))),
            ]))),
        ]))
    }
}

/// The webhook reading namespace labels from an API server (through --kubeconfig, over TLS), end to end.
final class ClusterTests: XCTestCase {
    func testNamespaceLabelsFromTheAPIServerDecide() throws {
        let api = StandInAPIServer()
        api.setNamespace("locked", labels: ["pod-security.kubernetes.io/enforce": "restricted"])
        api.setNamespace("shop", labels: [:])
        let tls = try TLSServerContext(configuration: TLSServerConfiguration(
            certificateFile: Certificates.path("tls.crt"), privateKeyFile: Certificates.path("tls.key")))
        let apiServer = HTTPServer(configuration: HTTPServerConfiguration(bindAddress: "127.0.0.1", port: 0), tls: tls, handler: api)
        let apiPort = try apiServer.start()
        defer { apiServer.shutdown(drainSeconds: 1); apiServer.waitUntilStopped() }

        let kubeconfig = FileManager.default.temporaryDirectory.appendingPathComponent("kubeconfig-\(UUID().uuidString).yaml")
        try """
        apiVersion: v1
        kind: Config
        current-context: test
        contexts: [{name: test, context: {cluster: stand-in, user: webhook}}]
        clusters: [{name: stand-in, cluster: {server: "https://127.0.0.1:\(apiPort)", certificate-authority: "\(Certificates.path("ca.crt"))"}}]
        users: [{name: webhook, user: {token: test-token}}]
        """.write(to: kubeconfig, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: kubeconfig) }

        var options = ServeOptions()
        options.bindAddress = "127.0.0.1"
        options.securePort = 0
        options.tlsCertFile = Certificates.path("tls.crt")
        options.tlsPrivateKeyFile = Certificates.path("tls.key")
        options.kubeconfig = kubeconfig.path
        options.shutdownGracePeriodSeconds = 1
        let captured = CapturedLog()
        let webhook = try WebhookServer(options: options, log: RequestLog(descriptor: captured.descriptor))
        let port = try webhook.start()
        defer { webhook.shutdown() }

        let client = try TestClient(port: port)
        let deadline = Date().addingTimeInterval(20)
        while try client.request("GET", "/readyz", contentType: nil).status != 200 {
            XCTAssertLessThan(Date(), deadline, "the namespace cache never synced")
            Thread.sleep(forTimeInterval: 0.05)
        }

        // The denied sample's namespace is `shop`: no labels, so the defaults (privileged) allow it.
        let denied = try sample("review-pod-restricted-denied.json")
        XCTAssertEqual(try client.request("POST", "/validate", body: denied).json()["response"]?["allowed"], .bool(true))

        // The same pod in `locked` (enforce=restricted from the API server) is denied.
        let locked = Array(String(decoding: denied, as: UTF8.self).replacingOccurrences(of: #""namespace":"shop""#, with: #""namespace":"locked""#).utf8)
        let response = try client.request("POST", "/validate", body: locked).json()["response"]
        XCTAssertEqual(response?["allowed"], .bool(false))
        XCTAssertTrue(response?["status"]?["message"]?.stringValue?.hasPrefix(#"pods "web-7d4b9c6f8-k8s2d" is forbidden: violates PodSecurity "restricted:latest""#) == true)

        // A namespace created after startup: found by a live GET, its labels apply at once.
        api.setNamespace("fresh", labels: ["pod-security.kubernetes.io/enforce": "baseline"])
        let fresh = Array(String(decoding: try sample("review-pod-baseline-denied.json"), as: UTF8.self)
            .replacingOccurrences(of: #""namespace":"shop""#, with: #""namespace":"fresh""#).utf8)
        let freshResponse = try client.request("POST", "/validate", body: fresh).json()["response"]
        XCTAssertEqual(freshResponse?["allowed"], .bool(false))
        XCTAssertTrue(freshResponse?["status"]?["message"]?.stringValue?.contains(#"violates PodSecurity "baseline:latest""#) == true)
        XCTAssertTrue(api.requestLog.contains("GET /api/v1/namespaces/fresh"), "\(api.requestLog)")

        // A namespace that does not exist: pods are refused with PSA's internal error.
        let ghost = Array(String(decoding: denied, as: UTF8.self).replacingOccurrences(of: #""namespace":"shop""#, with: #""namespace":"ghost""#).utf8)
        let ghostResponse = try client.request("POST", "/validate", body: ghost).json()["response"]
        XCTAssertEqual(ghostResponse?["allowed"], .bool(false))
        XCTAssertEqual(ghostResponse?["status"]?["code"], .number(JSONNumber(500)))

        // Tightening a namespace with a violating pod warns about it.
        api.setPods("shop", [try JSONParser.parse(String(decoding: denied, as: UTF8.self))["request"]!["object"]!])
        let update = try client.request("POST", "/validate", body: try sample("review-namespace-update.json")).json()["response"]
        XCTAssertEqual(update?["allowed"], .bool(true))
        let warnings = (update?["warnings"]?.arrayValue ?? []).compactMap(\.stringValue)
        XCTAssertEqual(warnings.first, #"existing pods in namespace "shop" violate the new PodSecurity enforce level "restricted:latest""#)
        XCTAssertTrue(warnings.dropFirst().first?.hasPrefix("web-7d4b9c6f8-k8s2d: allowPrivilegeEscalation != false") == true, "\(warnings)")

        webhook.shutdown()
        let first = captured.lines().first ?? ""
        XCTAssertTrue(first.contains("namespace labels from the Kubernetes API at https://127.0.0.1:\(apiPort)"), first)
    }
}
