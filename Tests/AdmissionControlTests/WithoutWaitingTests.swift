@testable import AdmissionControl
import PodSecurity
import StrictJSON
import XCTest

/// A lookup whose cache knows only `cached`; a live lookup (counted) knows `live` too.
struct CachingNamespaces: NamespaceLookup {
    var cached: [String: [String: String]] = [:]
    var known: Set<String> = [] // cached as not existing
    var live: [String: [String: String]] = [:]
    var liveCalls: Counter

    func labels(ofNamespace name: String, deadline: ContinuousClock.Instant) throws -> [String: String]? {
        liveCalls.increment()
        return cached[name] ?? live[name]
    }

    func labelsWithoutWaiting(ofNamespace name: String) -> NamespaceLabelsNow {
        if let labels = cached[name] { return .labels(labels) }
        return known.contains(name) ? .missing : .unknown
    }
}

/// `handleWithoutWaiting` answers exactly as `handle` does when it can, and declines (nil) when an answer needs
/// a live namespace lookup or a pod listing: the event loop then hands the request to a thread that may block.
final class WithoutWaitingTests: XCTestCase {
    private let deadline = ContinuousClock.now + .seconds(10)

    private func bothAnswers(_ controller: AdmissionController, _ body: [UInt8]) -> (AdmissionOutcome?, AdmissionOutcome) {
        (controller.handleWithoutWaiting(reviewBody: body, deadline: deadline), controller.handle(reviewBody: body, deadline: deadline))
    }

    func testCachedNamespaceAnswersWithoutWaitingAndTheSame() throws {
        let calls = Counter()
        let lookup = CachingNamespaces(cached: ["team": psaLabels(["enforce": "restricted"])], liveCalls: calls)
        let controller = makeController(namespaces: lookup)
        for object in [plainPod(), restrictedPod(), privilegedPod()] {
            let (fast, slow) = bothAnswers(controller, review(object: object))
            let answer = try XCTUnwrap(fast)
            XCTAssertEqual(String(decoding: answer.body, as: UTF8.self), String(decoding: slow.body, as: UTF8.self))
            XCTAssertEqual(answer.httpStatus, slow.httpStatus)
            XCTAssertEqual(answer.metrics, slow.metrics)
            XCTAssertEqual(answer.log.decision, slow.log.decision)
            XCTAssertEqual(answer.log.message, slow.log.message)
        }
        // The denied pod really was judged at restricted, on the cached labels.
        let denied = try XCTUnwrap(controller.handleWithoutWaiting(reviewBody: review(object: plainPod()), deadline: deadline))
        XCTAssertEqual(denied.log.decision, "deny")
        let workload = try XCTUnwrap(controller.handleWithoutWaiting(
            reviewBody: workloadReview(kind: "Deployment", resource: "deployments", object: json("""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"team"},
             "spec":{"template":{"metadata":{},"spec":{"containers":[{"name":"app","image":"nginx"}]}}}}
            """)), deadline: deadline))
        XCTAssertEqual(workload.log.decision, "allow")
        XCTAssertTrue(String(decoding: workload.body, as: UTF8.self).contains("would violate PodSecurity"))
        XCTAssertEqual(calls.value, 3, "only `handle` made live lookups")
    }

    func testUncachedNamespaceDeclinesAndTheWaitingPathLooksItUp() throws {
        let calls = Counter()
        let lookup = CachingNamespaces(live: ["fresh": psaLabels(["enforce": "baseline"])], liveCalls: calls)
        let controller = makeController(namespaces: lookup)
        let body = review(namespace: "fresh", object: privilegedPod())
        XCTAssertNil(controller.handleWithoutWaiting(reviewBody: body, deadline: deadline))
        XCTAssertEqual(calls.value, 0)
        let answer = controller.handle(reviewBody: body, deadline: deadline)
        XCTAssertEqual(answer.log.decision, "deny")
        XCTAssertEqual(calls.value, 1)
        // Workloads too: their lookup failure would only annotate, but the answer still waits for the truth.
        XCTAssertNil(controller.handleWithoutWaiting(
            reviewBody: workloadReview(kind: "Deployment", resource: "deployments", object: .object(JSONObject()), namespace: "fresh"),
            deadline: deadline))
    }

    func testNamespaceKnownMissingIsAnsweredAsTheLookupWould() throws {
        let lookup = CachingNamespaces(known: ["gone"], liveCalls: Counter())
        let controller = makeController(namespaces: lookup)
        let (fast, slow) = bothAnswers(controller, review(namespace: "gone", object: plainPod()))
        let answer = try XCTUnwrap(fast)
        XCTAssertEqual(String(decoding: answer.body, as: UTF8.self), String(decoding: slow.body, as: UTF8.self))
        XCTAssertTrue(String(decoding: answer.body, as: UTF8.self).contains(#"failed to lookup namespace \"gone\""#))
    }

    func testNamespaceReviewsAlwaysTakeTheWaitingPath() {
        let controller = makeController(namespaces: CachingNamespaces(cached: ["team": [:]], liveCalls: Counter()))
        let body = review(resource: "namespaces", kind: "Namespace", namespace: "", name: "team",
                          object: json(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}"#))
        XCTAssertNil(controller.handleWithoutWaiting(reviewBody: body, deadline: deadline))
        XCTAssertEqual(controller.handle(reviewBody: body, deadline: deadline).httpStatus, 200)
    }

    func testBadBodiesAndSkippedRequestsNeverWait() throws {
        let controller = makeController(namespaces: CachingNamespaces(liveCalls: Counter()))
        let bad = try XCTUnwrap(controller.handleWithoutWaiting(reviewBody: Array("{".utf8), deadline: deadline))
        XCTAssertEqual(bad.httpStatus, 400)
        let delete = try XCTUnwrap(controller.handleWithoutWaiting(
            reviewBody: review(operation: "DELETE", namespace: "unknown", object: nil, oldObject: plainPod()), deadline: deadline))
        XCTAssertEqual(delete.log.decision, "allow")
    }

    func testDefaultsOnlyNamespacesNeverWait() throws {
        let controller = AdmissionController(configuration: .standard, namespaces: DefaultsOnlyNamespaces(), pods: NoPods())
        let answer = try XCTUnwrap(controller.handleWithoutWaiting(reviewBody: review(namespace: "any", object: privilegedPod()),
                                                                   deadline: deadline))
        XCTAssertEqual(answer.log.decision, "allow")
    }
}
