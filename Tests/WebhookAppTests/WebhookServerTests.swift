import AdmissionControl
import Foundation
import StrictJSON
import TLS
import WebhookApp
import XCTest

/// The webhook as users reach it: the real server on loopback, real certificates, real TLS connections.
final class WebhookServerTests: XCTestCase {
    private var webhooks: [WebhookServer] = []

    override func tearDown() {
        for webhook in webhooks { webhook.shutdown() }
        webhooks.removeAll()
    }

    /// Starts a webhook on a free port with the benchmark's restricted configuration.
    func startWebhook(config: String? = "bench/bench-config.yaml", log: RequestLog = RequestLog(descriptor: -1),
                      _ adjust: (inout ServeOptions) -> Void = { _ in }) throws -> Int {
        var options = ServeOptions()
        options.bindAddress = "127.0.0.1"
        options.securePort = 0
        options.tlsCertFile = Certificates.path("tls.crt")
        options.tlsPrivateKeyFile = Certificates.path("tls.key")
        options.configFile = config.map { repositoryRoot.appendingPathComponent($0).path }
        options.shutdownGracePeriodSeconds = 2
        adjust(&options)
        let webhook = try WebhookServer(options: options, log: log)
        webhooks.append(webhook)
        return try webhook.start()
    }

    /// A good review on a new connection still gets a good answer.
    func assertStillServing(_ port: Int, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let response = try TestClient(port: port).request("POST", "/validate", body: try sample("review-pod-restricted-allowed.json"))
            XCTAssertEqual(response.status, 200, file: file, line: line)
            XCTAssertEqual(try response.json()["response"]?["allowed"], .bool(true), file: file, line: line)
        } catch {
            XCTFail("the server stopped serving: \(error)", file: file, line: line)
        }
    }

    func testAllowedAndDeniedPodsOverTLS() throws {
        let port = try startWebhook()
        let client = try TestClient(port: port)
        let allowed = try client.request("POST", "/validate", body: try sample("review-pod-restricted-allowed.json"))
        XCTAssertEqual(allowed.status, 200)
        XCTAssertEqual(allowed.headers["content-type"], "application/json")
        let allowedReview = try allowed.json()
        XCTAssertEqual(allowedReview["apiVersion"], .string("admission.k8s.io/v1"))
        XCTAssertEqual(allowedReview["kind"], .string("AdmissionReview"))
        XCTAssertEqual(allowedReview["response"]?["uid"], .string("705ab4f5-6393-11e8-b7cc-42010a800002"))
        XCTAssertEqual(allowedReview["response"]?["allowed"], .bool(true))

        let denied = try client.request("POST", "/validate", body: try sample("review-pod-restricted-denied.json"))
        XCTAssertEqual(denied.status, 200)
        let response = try XCTUnwrap(try denied.json()["response"])
        XCTAssertEqual(response["uid"], .string("3c1e1b8a-9f0d-4b8e-8d43-2a6f1c5e7b90"))
        XCTAssertEqual(response["allowed"], .bool(false))
        XCTAssertEqual(response["status"]?["code"], .number(JSONNumber(403)))
        XCTAssertEqual(response["status"]?["reason"], .string("Forbidden"))
        XCTAssertEqual(response["status"]?["details"]?["kind"], .string("pods"))
        XCTAssertEqual(response["status"]?["message"], .string(
            #"pods "web-7d4b9c6f8-k8s2d" is forbidden: violates PodSecurity "restricted:latest": "#
            + #"allowPrivilegeEscalation != false (containers "migrate", "web", "log-shipper" must set securityContext.allowPrivilegeEscalation=false), "#
            + #"unrestricted capabilities (containers "migrate", "web", "log-shipper" must set securityContext.capabilities.drop=["ALL"]), "#
            + #"runAsNonRoot != true (pod or containers "migrate", "web", "log-shipper" must set securityContext.runAsNonRoot=true), "#
            + #"seccompProfile (pod or containers "migrate", "web", "log-shipper" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#))
    }

    func testAnyPathTheWebhookConfigurationNamesIsAdmission() throws {
        let port = try startWebhook()
        let client = try TestClient(port: port)
        for path in ["/validate", "/validate/pods", "/", "/psa?timeout=5s"] {
            let response = try client.request("POST", path, body: try sample("review-pod-baseline-denied.json"))
            XCTAssertEqual(response.status, 200, path)
            XCTAssertEqual(try response.json()["response"]?["allowed"], .bool(false), path)
        }
    }

    func testWorkloadsWarnAndV1beta1IsAnsweredInKind() throws {
        let port = try startWebhook()
        let client = try TestClient(port: port)
        let deployment = try client.request("POST", "/validate", body: try sample("review-deployment.json")).json()
        XCTAssertEqual(deployment["response"]?["allowed"], .bool(true))
        let warnings = deployment["response"]?["warnings"]?.arrayValue ?? []
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings.first?.stringValue?.hasPrefix(#"would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false"#) == true)

        let beta = try client.request("POST", "/validate", body: try sample("review-v1beta1-pod.json")).json()
        XCTAssertEqual(beta["apiVersion"], .string("admission.k8s.io/v1beta1"))
        XCTAssertEqual(beta["response"]?["allowed"], .bool(false))
    }

    func testKeepAliveServesManyReviewsOnOneConnection() throws {
        let port = try startWebhook()
        let client = try TestClient(port: port)
        for index in 0..<20 {
            let name = index % 2 == 0 ? "review-pod-restricted-allowed.json" : "review-pod-restricted-denied.json"
            let response = try client.request("POST", "/validate", body: try sample(name))
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(try response.json()["response"]?["allowed"], .bool(index % 2 == 0))
        }
    }

    func testManyParallelClients() throws {
        let port = try startWebhook()
        let allowed = try sample("review-pod-restricted-allowed.json")
        let denied = try sample("review-pod-restricted-denied.json")
        let failures = NSLock()
        nonisolated(unsafe) var problems: [String] = []
        DispatchQueue.concurrentPerform(iterations: 16) { worker in
            do {
                let client = try TestClient(port: port)
                for request in 0..<10 {
                    let expectAllowed = (worker + request) % 2 == 0
                    let response = try client.request("POST", "/validate", body: expectAllowed ? allowed : denied)
                    if try response.json()["response"]?["allowed"] != .bool(expectAllowed) {
                        failures.lock(); problems.append("worker \(worker) request \(request): wrong decision"); failures.unlock()
                    }
                }
            } catch {
                failures.lock(); problems.append("worker \(worker): \(error)"); failures.unlock()
            }
        }
        XCTAssertEqual(problems, [])
    }

    func testBadRequestsGetClearAnswersAndTheServerKeepsServing() throws {
        let port = try startWebhook()
        let cases: [(method: String, path: String, body: [UInt8], contentType: String?, status: Int, message: String)] = [
            ("POST", "/validate", Array("not json".utf8), "application/json", 400, "invalid JSON"),
            ("POST", "/validate", Array(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.utf8), "application/json", 400, "request"),
            ("POST", "/validate", Array(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"kind":"Pod"}}}"#.utf8), "application/json", 400, "uid"),
            ("POST", "/validate", try sample("review-pod-restricted-allowed.json"), "text/plain", 415, "Content-Type must be application/json"),
            ("POST", "/validate", try sample("review-pod-restricted-allowed.json"), nil, 415, "found none"),
            ("POST", "/validate?timeout=soon", try sample("review-pod-restricted-allowed.json"), "application/json", 400, "invalid timeout"),
            ("GET", "/nope", [], nil, 404, "no such path"),
            ("PUT", "/validate", [], nil, 405, "not allowed"),
            ("POST", "/healthz", [], "application/json", 405, "use GET"),
        ]
        for testCase in cases {
            let response = try TestClient(port: port).request(testCase.method, testCase.path, body: testCase.body,
                                                              contentType: testCase.contentType)
            XCTAssertEqual(response.status, testCase.status, "\(testCase.method) \(testCase.path) \(testCase.contentType ?? "-")")
            XCTAssertEqual(response.headers["content-type"], "application/json")
            let status = try response.json()
            XCTAssertEqual(status["kind"], .string("Status"))
            XCTAssertEqual(status["code"], .number(JSONNumber(testCase.status)))
            XCTAssertTrue(status["message"]?.stringValue?.contains(testCase.message) == true,
                          "\(status["message"]?.stringValue ?? "no message") lacks \(testCase.message)")
            assertStillServing(port)
        }
    }

    /// A review nested to the JSON parser's depth limit (256), in a member that is read and in one that is
    /// validated and dropped, is answered on the event loop's own stack; one level deeper is a clear 400.
    /// The release binary answers the same within its default 1 MiB stack (~470 KB for the nesting).
    func testNestingAtTheDepthLimitIsAnsweredAndOneDeeperRefused() throws {
        let port = try startWebhook { options in
            #if DEBUG
            // Unoptimized, a level of the scanner takes ~5.7 KB of stack (~1.8 KB optimized).
            options.threadStackBytes = 4 * 1024 * 1024
            #endif
        }
        let review = String(decoding: try sample("review-pod-restricted-allowed.json"), as: UTF8.self)
        /// `levels` containers, objects and arrays in turn, around a number.
        func chain(_ levels: Int) -> String {
            (0..<levels).reduce("1") { inner, level in level.isMultiple(of: 2) ? #"{"a":\#(inner)}"# : "[\(inner)]" }
        }
        // The labels object and the managedFields array sit at depth 5 of the review: a chain of 251 containers
        // inside either reaches 256.
        for (opening, element) in [(#""labels":{"#, #""deep":"#), (#""managedFields":["#, "")] {
            let at = try XCTUnwrap(review.range(of: opening), "the sample has no \(opening)")
            for levels in [251, 252] {
                var nested = review
                nested.insert(contentsOf: element + chain(levels) + ",", at: at.upperBound)
                let response = try TestClient(port: port).request("POST", "/validate", body: Array(nested.utf8))
                if levels == 251 {
                    XCTAssertEqual(response.status, 200, opening)
                    XCTAssertEqual(try response.json()["response"]?["allowed"], .bool(true), opening)
                } else {
                    XCTAssertEqual(response.status, 400, opening)
                    XCTAssertTrue(try response.json()["message"]?.stringValue?.contains("nesting deeper than 256 levels") == true,
                                  opening)
                }
                assertStillServing(port)
            }
        }
    }

    func testBodyOverThreeMebibytesIs413() throws {
        let port = try startWebhook()
        let client = try TestClient(port: port)
        let head = "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(3 * 1024 * 1024 + 1)\r\n\r\n"
        try client.send(Array(head.utf8))
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 413)
        XCTAssertTrue(response.text.contains("RequestEntityTooLarge"), response.text)
        assertStillServing(port)
    }

    func testUnevaluatedKindIsAllowedWithAnErrorAnnotation() throws {
        let port = try startWebhook()
        let review = #"""
        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1","kind":{"group":"","version":"v1","kind":"Service"},
         "resource":{"group":"","version":"v1","resource":"services"},"name":"s","namespace":"ns","operation":"CREATE",
         "userInfo":{"username":"alice"},"object":{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}}}}
        """#
        let response = try TestClient(port: port).request("POST", "/validate", body: Array(review.utf8)).json()
        XCTAssertEqual(response["response"]?["uid"], .string("u-1"))
        XCTAssertEqual(response["response"]?["allowed"], .bool(true))
        XCTAssertEqual(response["response"]?["auditAnnotations"]?["error"],
                       .string("failed to extract pod template: unexpected object type: /v1, Kind=Service"))
    }

    func testHealthReadinessAndMetrics() throws {
        let port = try startWebhook()
        let client = try TestClient(port: port)
        for path in ["/healthz", "/livez", "/readyz"] {
            let response = try client.request("GET", path, contentType: nil)
            XCTAssertEqual(response.status, 200, path)
            XCTAssertEqual(response.text, "ok\n", path)
        }
        _ = try client.request("POST", "/validate", body: try sample("review-pod-restricted-denied.json"))
        _ = try client.request("POST", "/validate", body: try sample("review-pod-restricted-allowed.json"))
        let metrics = try client.request("GET", "/metrics", contentType: nil)
        XCTAssertEqual(metrics.status, 200)
        XCTAssertTrue(metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = metrics.text
        XCTAssertTrue(text.contains(#"pod_security_evaluations_total{decision="deny",policy_level="restricted",policy_version="latest",mode="enforce",request_operation="create",resource="pod",subresource=""} 1"#), text)
        XCTAssertTrue(text.contains(#"pod_security_evaluations_total{decision="allow",policy_level="restricted",policy_version="latest",mode="enforce",request_operation="create",resource="pod",subresource=""} 1"#), text)
        XCTAssertTrue(text.contains(#"pod_security_webhook_request_duration_seconds_count{kind="Pod"} 2"#), text)
        XCTAssertTrue(text.contains(#"pod_security_webhook_requests_total{code="200"} 2"#), text)
    }

    func testOneLogLinePerRequest() throws {
        let captured = CapturedLog()
        let port = try startWebhook(log: RequestLog(descriptor: captured.descriptor))
        _ = try TestClient(port: port).request("POST", "/validate", body: try sample("review-pod-restricted-denied.json"))
        webhooks.removeFirst().shutdown()
        let lines = captured.lines().compactMap { try? JSONParser.parse($0) }
        XCTAssertTrue(lines.first?["policySource"]?.stringValue?.hasPrefix("configuration defaults only") == true)
        let admissions = lines.filter { $0["msg"] == .string("admission") }
        XCTAssertEqual(admissions.count, 1)
        let entry = try XCTUnwrap(admissions.first)
        XCTAssertEqual(entry["uid"], .string("3c1e1b8a-9f0d-4b8e-8d43-2a6f1c5e7b90"))
        XCTAssertEqual(entry["namespace"], .string("shop"))
        XCTAssertEqual(entry["name"], .string("web-7d4b9c6f8-k8s2d"))
        XCTAssertEqual(entry["operation"], .string("CREATE"))
        XCTAssertEqual(entry["decision"], .string("deny"))
        XCTAssertNotNil(entry["durationMicroseconds"]?.numberValue)
    }

    func testMutualTLS() throws {
        let port = try startWebhook { $0.clientCAFile = Certificates.path("ca.crt") }
        let good = try TestClient(port: port, clientCertificate: Certificates.path("client.crt"), clientKey: Certificates.path("client.key"))
        XCTAssertEqual(try good.request("POST", "/validate", body: try sample("review-pod-restricted-allowed.json")).status, 200)

        // Without a certificate, or with one from another CA, no request gets through (TLS 1.3 may report
        // the refusal at the first read rather than at the handshake).
        for (certificate, key) in [(nil, nil), (Certificates.path("other-client.crt"), Certificates.path("other-client.key"))] as [(String?, String?)] {
            do {
                let client = try TestClient(port: port, clientCertificate: certificate, clientKey: key)
                _ = try client.request("GET", "/healthz", contentType: nil)
                XCTFail("a client with \(certificate ?? "no certificate") was served")
            } catch {
                // refused
            }
        }
        XCTAssertEqual(try good.request("GET", "/healthz", contentType: nil).status, 200)
    }

    func testSourceAllowList() throws {
        let closed = try startWebhook { $0.allowedSourceCIDRs = ["10.0.0.0/8", "fd00::/8"] }
        XCTAssertThrowsError(try TestClient(port: closed).request("GET", "/healthz", contentType: nil),
                             "a loopback client outside the allowed networks is closed before TLS")
        let open = try startWebhook { $0.allowedSourceCIDRs = ["10.0.0.0/8", "127.0.0.0/8"] }
        assertStillServing(open)
        XCTAssertThrowsError(try startWebhook { $0.allowedSourceCIDRs = ["10.0.0.0/33"] }) { error in
            XCTAssertTrue("\(error)".contains("--allowed-source-cidrs"), "\(error)")
        }
    }

    func testTLS11IsRefused() throws {
        let port = try startWebhook()
        XCTAssertThrowsError(try TestClient(port: port, rawProtocolRange: 0x0302...0x0302).request("GET", "/healthz", contentType: nil))
        assertStillServing(port)
    }

    func testStartupErrorsNameTheProblem() throws {
        XCTAssertThrowsError(try startWebhook(config: "deploy/kind-config.yaml")) { error in
            XCTAssertTrue("\(error)".contains("--config"), "\(error)")
        }
        XCTAssertThrowsError(try startWebhook { $0.tlsMinVersion = "VersionTLS11" }) { error in
            XCTAssertTrue("\(error)".contains("--tls-min-version"), "\(error)")
        }
        XCTAssertThrowsError(try startWebhook { $0.tlsCipherSuites = ["TLS_NOT_A_SUITE"] }) { error in
            XCTAssertTrue("\(error)".contains("TLS_NOT_A_SUITE"), "\(error)")
        }
        XCTAssertThrowsError(try startWebhook { $0.tlsCertFile = "/nonexistent/tls.crt" }) { error in
            XCTAssertTrue("\(error)".contains("TLS"), "\(error)")
        }
    }
}
