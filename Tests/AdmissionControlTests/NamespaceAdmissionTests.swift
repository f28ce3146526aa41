@testable import AdmissionControl
import PodSecurity
import StrictJSON
import XCTest

final class NamespaceAdmissionTests: XCTestCase {
    func namespaceObject(_ name: String = "team", _ modes: [String: String]) -> JSONValue {
        var labels = JSONObject()
        labels["kubernetes.io/metadata.name"] = .string(name)
        for mode in modes.keys.sorted() { labels[PodSecurityLabels.prefix + mode] = .string(modes[mode]!) }
        return .object(JSONObject([
            "apiVersion": .string("v1"), "kind": .string("Namespace"),
            "metadata": .object(JSONObject(["name": .string(name), "labels": .object(labels)])),
        ]))
    }

    func namespaceReview(_ name: String = "team", operation: String, new: [String: String], old: [String: String]? = nil,
                         subResource: String? = nil) -> [UInt8] {
        review(resource: "namespaces", kind: "Namespace", subResource: subResource, operation: operation,
               namespace: name, name: name, object: namespaceObject(name, new), oldObject: old.map { namespaceObject(name, $0) })
    }

    /// A pod in the namespace, optionally owned by a controller.
    func pod(_ name: String, _ base: JSONValue, owner: String? = nil, runtimeClass: String? = nil) -> JSONValue {
        guard case .object(var object) = base, case .object(var metadata)? = object["metadata"], case .object(var spec)? = object["spec"] else {
            return base
        }
        metadata["name"] = .string(name)
        if let owner {
            metadata["ownerReferences"] = json(#"[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"\#(owner)","controller":true}]"#)
        }
        if let runtimeClass { spec["runtimeClassName"] = .string(runtimeClass) }
        object["metadata"] = .object(metadata)
        object["spec"] = .object(spec)
        return .object(object)
    }

    // MARK: Label validation

    func testCreateWithAnInvalidLevelIsRejectedAs422() {
        let result = answer(makeController(), namespaceReview(operation: "CREATE", new: ["enforce": "foo"]))
        XCTAssertEqual(result.outcome.httpStatus, 200)
        XCTAssertEqual(result.allowed, false)
        XCTAssertEqual(result.statusText, #"{"metadata":{},"status":"Failure","message":"Namespace \"team\" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"foo\": must be one of privileged, baseline, restricted","reason":"Invalid","details":{"name":"team","kind":"Namespace","causes":[{"reason":"FieldValueInvalid","message":"Invalid value: \"foo\": must be one of privileged, baseline, restricted","field":"metadata.labels[pod-security.kubernetes.io/enforce]"}]},"code":422}"#)
        XCTAssertEqual(result.annotations, [:])
        XCTAssertEqual(result.outcome.log.decision, "deny")
        XCTAssertEqual(result.outcome.metrics, [])
    }

    func testSeveralInvalidLabelsAreAggregated() {
        let result = answer(makeController(), namespaceReview(operation: "CREATE", new: ["enforce-version": "v2", "warn": "Baseline"]))
        XCTAssertEqual(result.message, #"Namespace "team" is invalid: [metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: "v2": must be "latest" or "v1.x", metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "Baseline": must be one of privileged, baseline, restricted]"#)
        XCTAssertEqual(result.status?["details"]?["causes"]?.arrayValue?.count, 2)
    }

    func testValidCreateIsAllowed() {
        let result = answer(makeController(), namespaceReview(operation: "CREATE", new: ["enforce": "restricted", "enforce-version": "v1.30"]))
        XCTAssertEqual(result.bodyText, #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"uid-1","allowed":true}}"#)
    }

    func testCreatingAnExemptNamespaceWithAPolicyWarns() {
        let configuration = AdmissionConfiguration(exemptions: .init(namespaces: ["kube-system"]))
        let controller = makeController(configuration: configuration)
        let result = answer(controller, namespaceReview("kube-system", operation: "CREATE", new: ["enforce": "baseline"]))
        XCTAssertEqual(result.allowed, true)
        XCTAssertEqual(result.warnings, [#"namespace "kube-system" is exempt from Pod Security, and the policy (enforce=baseline:latest) will be ignored"#])

        let all = answer(controller, namespaceReview("kube-system", operation: "CREATE", new: ["enforce": "baseline", "audit": "restricted", "warn-version": "v1.25"]))
        XCTAssertEqual(all.warnings, [#"namespace "kube-system" is exempt from Pod Security, and the policy (enforce=baseline:latest, audit=restricted:latest, warn=baseline:v1.25) will be ignored"#])

        let privileged = answer(controller, namespaceReview("kube-system", operation: "CREATE", new: ["enforce": "privileged"]))
        XCTAssertEqual(privileged.warnings, [])
    }

    func testUpdateKeepingTheSameInvalidLabelsIsAllowed() {
        let result = answer(makeController(), namespaceReview(operation: "UPDATE", new: ["enforce": "foo"], old: ["enforce": "foo"]))
        XCTAssertEqual(result.allowed, true)
        let changed = answer(makeController(), namespaceReview(operation: "UPDATE", new: ["enforce": "bar"], old: ["enforce": "foo"]))
        XCTAssertEqual(changed.allowed, false)
        XCTAssertEqual(changed.code, "422")
    }

    func testSubresourcesAndOtherOperationsAreAllowed() {
        XCTAssertEqual(answer(makeController(), namespaceReview(operation: "UPDATE", new: ["enforce": "foo"], old: [:], subResource: "status")).allowed, true)
        XCTAssertEqual(answer(makeController(), namespaceReview(operation: "DELETE", new: ["enforce": "foo"])).allowed, true)
    }

    func testUndecodableNamespaces() {
        let missing = answer(makeController(), review(resource: "namespaces", kind: "Namespace", namespace: "team", name: "team", object: nil))
        XCTAssertEqual(missing.statusText, #"{"metadata":{},"status":"Failure","message":"failed to decode namespace","reason":"BadRequest","code":400}"#)
        XCTAssertEqual(missing.annotations, ["error": "failed to decode namespace"])
        XCTAssertEqual(missing.outcome.log.decision, "error")

        let badLabels = json(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team","labels":{"pod-security.kubernetes.io/enforce":1}}}"#)
        let bad = answer(makeController(), review(resource: "namespaces", kind: "Namespace", namespace: "team", name: "team", object: badLabels))
        XCTAssertEqual(bad.message, "failed to decode object")
        XCTAssertEqual(bad.annotations, ["error": "failed to decode object: metadata.labels[pod-security.kubernetes.io/enforce]: expected a string, got number"])

        let noOld = answer(makeController(), review(resource: "namespaces", kind: "Namespace", operation: "UPDATE", namespace: "team", name: "team",
                                                    object: namespaceObject("team", [:]), oldObject: nil))
        XCTAssertEqual(noOld.message, "failed to decode  old namespace")
    }

    // MARK: Existing pods when enforce tightens

    func testTighteningWarnsAboutExistingPodsGroupedAsPSADoes() {
        let pods = [
            pod("c", plainPod(), owner: "rs-1"),
            pod("b", plainPod(), owner: "rs-1"),
            pod("a", plainPod()),
            pod("m-seccomp", restrictedPod(seccomp: false)),
            pod("ok", restrictedPod()),
            pod("kata", plainPod(), runtimeClass: "kata"),
        ]
        let configuration = AdmissionConfiguration(exemptions: .init(runtimeClasses: ["kata"]))
        let controller = makeController(configuration: configuration, pods: FakePods(pods: pods))
        let result = answer(controller, namespaceReview(operation: "UPDATE", new: ["enforce": "restricted"], old: [:]))
        XCTAssertEqual(result.allowed, true)
        XCTAssertEqual(result.warnings, [
            #"existing pods in namespace "team" violate the new PodSecurity enforce level "restricted:latest""#,
            "a (and 2 other pods): " + restrictedReasons,
            "m-seccomp: seccompProfile",
        ])
        XCTAssertEqual(result.annotations, [:])
        XCTAssertEqual(result.outcome.metrics, [])
    }

    func testTwoPodsShareOneLine() {
        let controller = makeController(pods: FakePods(pods: [pod("y", privilegedPod()), pod("x", privilegedPod()), pod("z", plainPod())]))
        let result = answer(controller, namespaceReview(operation: "UPDATE", new: ["enforce": "baseline"], old: ["enforce": "privileged"]))
        XCTAssertEqual(result.warnings, [
            #"existing pods in namespace "team" violate the new PodSecurity enforce level "baseline:latest""#,
            "x (and 1 other pod): privileged",
        ])
    }

    func testNoWarningsWhenEveryPodComplies() {
        let controller = makeController(pods: FakePods(pods: [pod("ok", restrictedPod())]))
        let result = answer(controller, namespaceReview(operation: "UPDATE", new: ["enforce": "restricted"], old: [:]))
        XCTAssertEqual(result.bodyText, #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"uid-1","allowed":true}}"#)
    }

    func testNoDryRunWhenEnforceDoesNotTighten() {
        let calls = Counter()
        let controller = makeController(pods: FakePods(pods: [pod("a", privilegedPod())], calls: calls))
        // unchanged
        XCTAssertEqual(answer(controller, namespaceReview(operation: "UPDATE", new: ["enforce": "baseline", "warn": "restricted"], old: ["enforce": "baseline"])).warnings, [])
        // relaxed at the same version
        XCTAssertEqual(answer(controller, namespaceReview(operation: "UPDATE", new: ["enforce": "baseline"], old: ["enforce": "restricted"])).warnings, [])
        // to privileged
        XCTAssertEqual(answer(controller, namespaceReview(operation: "UPDATE", new: ["enforce": "privileged"], old: ["enforce": "baseline", "enforce-version": "v1.20"])).warnings, [])
        XCTAssertEqual(calls.value, 0)
        // a different version at a non-privileged level is checked, even if the level relaxes
        let result = answer(controller, namespaceReview(operation: "UPDATE", new: ["enforce": "baseline"], old: ["enforce": "restricted", "enforce-version": "v1.30"]))
        XCTAssertEqual(calls.value, 1)
        XCTAssertEqual(result.warnings.first, #"existing pods in namespace "team" violate the new PodSecurity enforce level "baseline:latest""#)
    }

    func testExemptNamespaceTighteningWarnsThatItIsExempt() {
        let calls = Counter()
        let configuration = AdmissionConfiguration(exemptions: .init(namespaces: ["team"]))
        let controller = makeController(configuration: configuration, pods: FakePods(pods: [pod("a", privilegedPod())], calls: calls))
        let result = answer(controller, namespaceReview(operation: "UPDATE", new: ["enforce": "restricted"], old: [:]))
        XCTAssertEqual(result.warnings, [#"namespace "team" is exempt from Pod Security, and the policy (enforce=restricted:latest) will be ignored"#])
        XCTAssertEqual(calls.value, 0)
    }

    func testListFailureWarns() {
        let controller = makeController(pods: FakePods(error: "forbidden"))
        let result = answer(controller, namespaceReview(operation: "UPDATE", new: ["enforce": "baseline"], old: [:]))
        XCTAssertEqual(result.allowed, true)
        XCTAssertEqual(result.warnings, ["failed to list pods while checking new PodSecurity enforce level"])
    }

    func testOnlyTheFirst3000PodsAreChecked() {
        let pods = (0..<3005).map { pod(String(format4($0)), privilegedPod()) }
        // A generous time limit, so that only the count limit applies however slow the machine.
        let controller = makeController(pods: FakePods(pods: pods), podCheckTimeout: .seconds(60))
        let result = answer(controller, namespaceReview(operation: "UPDATE", new: ["enforce": "baseline"], old: [:]), deadline: .seconds(600))
        XCTAssertEqual(result.warnings, [
            "new PodSecurity enforce level only checked against the first 3000 of 3005 existing pods",
            #"existing pods in namespace "team" violate the new PodSecurity enforce level "baseline:latest""#,
            "p0000 (and 2999 other pods): privileged",
        ])
    }

    func testReplicasOfOneControllerAreCheckedLast() {
        // 3001 replicas of one ReplicaSet first in the list, then a distinct pod: the distinct pod is still checked.
        var pods = (0..<3001).map { pod(format4($0), privilegedPod(), owner: "rs-1") }
        pods.append(pod("zz-unique", plainPod()))
        let controller = makeController(pods: FakePods(pods: pods), podCheckTimeout: .seconds(60))
        let result = answer(controller, namespaceReview(operation: "UPDATE", new: ["enforce": "restricted"], old: [:]), deadline: .seconds(600))
        XCTAssertEqual(result.warnings.first, "new PodSecurity enforce level only checked against the first 3000 of 3002 existing pods")
        XCTAssertTrue(result.warnings.contains("zz-unique: " + restrictedReasons), "\(result.warnings)")
    }

    func testTheTimeLimitStopsTheCheck() {
        // Half of a 4 ms deadline is 2 ms; the lister alone takes 5 ms, so only the first pod is evaluated.
        let pods = (0..<5).map { pod(format4($0), privilegedPod()) }
        let controller = makeController(pods: FakePods(pods: pods, delay: .milliseconds(5)))
        let result = answer(controller, namespaceReview(operation: "UPDATE", new: ["enforce": "baseline"], old: [:]), deadline: .milliseconds(4))
        XCTAssertEqual(result.warnings, [
            "new PodSecurity enforce level only checked against the first 1 of 5 existing pods",
            #"existing pods in namespace "team" violate the new PodSecurity enforce level "baseline:latest""#,
            "p0000: privileged",
        ])
    }

    func testTheDefaultTimeLimitIsOneSecond() {
        let pods = (0..<3).map { pod(format4($0), privilegedPod()) }
        let controller = makeController(pods: FakePods(pods: pods, delay: .milliseconds(1050)))
        let result = answer(controller, namespaceReview(operation: "UPDATE", new: ["enforce": "baseline"], old: [:]), deadline: .seconds(600))
        XCTAssertEqual(result.warnings.first, "new PodSecurity enforce level only checked against the first 1 of 3 existing pods")
    }

    func testExemptionOfANamespaceCreatedWithoutRequestNamespace() {
        let configuration = AdmissionConfiguration(exemptions: .init(namespaces: ["kube-system"]))
        let body = review(resource: "namespaces", kind: "Namespace", operation: "CREATE", namespace: "", name: "kube-system",
                          object: namespaceObject("kube-system", ["enforce": "baseline"]))
        XCTAssertEqual(answer(makeController(configuration: configuration), body).warnings,
                       [#"namespace "kube-system" is exempt from Pod Security, and the policy (enforce=baseline:latest) will be ignored"#])
    }

    func format4(_ index: Int) -> String {
        let digits = String(index)
        return "p" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
