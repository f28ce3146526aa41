@testable import AdmissionControl
import PodSecurity
import StrictJSON
import XCTest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Fakes

struct FakeError: Error, CustomStringConvertible {
    var description: String
}

/// Namespaces by name; a name in `failing` throws "connection refused"; unknown names are not found (nil).
struct FakeNamespaces: NamespaceLookup {
    var labels: [String: [String: String]] = [:]
    var failing: Set<String> = []

    func labels(ofNamespace name: String, deadline: ContinuousClock.Instant) throws -> [String: String]? {
        if failing.contains(name) { throw FakeError(description: "connection refused") }
        return labels[name]
    }
}

/// Returns `pods` after busy-waiting `delay`; throws when `error` is set.
struct FakePods: PodLister {
    var pods: [JSONValue] = []
    var delay: Duration = .zero
    var error: String?
    var calls: Counter? = nil

    func pods(inNamespace namespace: String, limit: Int, deadline: ContinuousClock.Instant) throws -> [JSONValue] {
        calls?.increment()
        if delay > .zero {
            let clock = ContinuousClock()
            let end = clock.now + delay
            while clock.now < end {}
        }
        if let error { throw FakeError(description: error) }
        return pods
    }
}

/// A thread-safe counter (tests only).
final class Counter: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var count = 0

    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    func increment() {
        pthread_mutex_lock(&mutex)
        count += 1
        pthread_mutex_unlock(&mutex)
    }

    var value: Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return count
    }
}

/// A controller on the real engine; `evaluations` counts engine runs (to test the per-request cache).
func makeController(
    configuration: AdmissionConfiguration = .standard,
    namespaces: any NamespaceLookup = FakeNamespaces(labels: ["team": [:]]),
    pods: any PodLister = NoPods(),
    evaluations: Counter? = nil,
    podCheckTimeout: Duration = AdmissionController.namespacePodCheckTimeout
) -> AdmissionController {
    AdmissionController(configuration: configuration, namespaces: namespaces, pods: pods, podCheckTimeout: podCheckTimeout) { pod, policy in
        evaluations?.increment()
        return PodSecurityEvaluator.evaluate(pod, at: policy)
    }
}

// MARK: - Objects

func json(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONValue {
    do {
        return try JSONParser.parse(text)
    } catch {
        XCTFail("bad test JSON: \(error)", file: file, line: line)
        return .null
    }
}

/// A pod with one container `app` and no security settings: passes baseline, fails restricted on four checks.
func plainPod(_ name: String = "web", image: String = "nginx:1.25", extraMetadata: String = "", extraSpec: String = "") -> JSONValue {
    json("""
    {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\(name)","namespace":"team"\(extraMetadata)},
     "spec":{"containers":[{"name":"app","image":"\(image)"}]\(extraSpec)}}
    """)
}

/// A pod whose container `app` is privileged: fails baseline.
func privilegedPod(_ name: String = "web", extraSpec: String = "") -> JSONValue {
    json("""
    {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\(name)","namespace":"team"},
     "spec":{"containers":[{"name":"app","image":"nginx","securityContext":{"privileged":true}}]\(extraSpec)}}
    """)
}

/// A pod that passes restricted.
func restrictedPod(_ name: String = "web", seccomp: Bool = true) -> JSONValue {
    let profile = seccomp ? ",\"seccompProfile\":{\"type\":\"RuntimeDefault\"}" : ""
    return json("""
    {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\(name)","namespace":"team"},
     "spec":{"securityContext":{"runAsNonRoot":true\(profile)},
             "containers":[{"name":"app","image":"nginx","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}
    """)
}

let baselineDetail = #"privileged (container "app" must not set securityContext.privileged=true)"#
let restrictedDetail = #"allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#
let restrictedReasons = "allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile"

/// An AdmissionReview for `object`.
func review(
    apiVersion: String = "admission.k8s.io/v1",
    uid: String = "uid-1",
    group: String = "", version: String = "v1", resource: String = "pods", kind: String = "Pod",
    subResource: String? = nil,
    operation: String = "CREATE",
    namespace: String = "team", name: String = "web", user: String = "alice",
    object: JSONValue?, oldObject: JSONValue? = nil
) -> [UInt8] {
    var request = JSONObject([
        "uid": .string(uid),
        "kind": .object(JSONObject(["group": .string(group), "version": .string(version), "kind": .string(kind)])),
        "resource": .object(JSONObject(["group": .string(group), "version": .string(version), "resource": .string(resource)])),
    ])
    if let subResource {
        request["subResource"] = .string(subResource)
        request["requestSubResource"] = .string(subResource)
    }
    request["name"] = .string(name)
    request["namespace"] = .string(namespace)
    request["operation"] = .string(operation)
    request["userInfo"] = .object(JSONObject(["username": .string(user)]))
    request["object"] = object ?? .null
    request["oldObject"] = oldObject ?? .null
    let document = JSONObject([
        "apiVersion": .string(apiVersion), "kind": .string("AdmissionReview"), "request": .object(request),
    ])
    return JSONValue.object(document).serialized()
}

/// A workload review (apps/v1 unless told).
func workloadReview(kind: String, resource: String, group: String = "apps", object: JSONValue,
                    namespace: String = "team", subResource: String? = nil, user: String = "alice") -> [UInt8] {
    review(group: group, resource: resource, kind: kind, subResource: subResource, namespace: namespace,
           name: "workload", user: user, object: object)
}

/// The parts of an answer the tests look at.
struct Answer {
    var outcome: AdmissionOutcome
    var document: JSONValue
    var response: JSONValue { document["response"] ?? .null }
    var allowed: Bool? { response["allowed"]?.boolValue }
    var status: JSONValue? { response["status"] }
    var statusText: String { status.map { String(decoding: $0.serialized(), as: UTF8.self) } ?? "" }
    var message: String? { status?["message"]?.stringValue }
    var code: String? { status?["code"]?.numberValue?.text }
    var warnings: [String] { response["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    var annotations: [String: String] {
        var result: [String: String] = [:]
        for member in response["auditAnnotations"]?.objectValue?.members ?? [] { result[member.key] = member.value.stringValue }
        return result
    }
    var bodyText: String { String(decoding: outcome.body, as: UTF8.self) }
}

func answer(_ controller: AdmissionController, _ body: [UInt8], deadline: Duration = .seconds(10),
            file: StaticString = #filePath, line: UInt = #line) -> Answer {
    let outcome = controller.handle(reviewBody: body, deadline: ContinuousClock.now + deadline)
    let document = (try? JSONParser.parse(outcome.body)) ?? .null
    if document.isNull { XCTFail("the body is not JSON: \(String(decoding: outcome.body, as: UTF8.self))", file: file, line: line) }
    // Where the outcome says the body holds the log's message quoted (the request log copies it), it does.
    if let quoted = outcome.quotedMessage {
        var expected: [UInt8] = []
        JSONWriter.appendQuoted(outcome.log.message, to: &expected)
        XCTAssertEqual(String(decoding: outcome.body[quoted], as: UTF8.self), String(decoding: expected, as: UTF8.self),
                       file: file, line: line)
    }
    return Answer(outcome: outcome, document: document)
}

/// Labels for `pod-security.kubernetes.io/<mode>` from `["enforce": "baseline", ...]`.
func psaLabels(_ modes: [String: String]) -> [String: String] {
    var labels: [String: String] = ["kubernetes.io/metadata.name": "team"]
    for (mode, value) in modes { labels[PodSecurityLabels.prefix + mode] = value }
    return labels
}

func namespaces(_ modes: [String: String], name: String = "team") -> FakeNamespaces {
    FakeNamespaces(labels: [name: psaLabels(modes)])
}

func evaluation(_ decision: String, _ level: String, _ version: String = "latest", _ mode: String,
                operation: String = "create", resource: String = "pod", subresource: String = "") -> AdmissionMetricEvent {
    .evaluation(decision: decision, policyLevel: level, policyVersion: version, mode: mode,
                operation: operation, resource: resource, subresource: subresource)
}
