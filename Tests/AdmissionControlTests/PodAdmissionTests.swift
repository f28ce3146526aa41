@testable import AdmissionControl
import PodSecurity
import StrictJSON
import XCTest

final class PodAdmissionTests: XCTestCase {
    // MARK: Defaults and the privileged short-circuit

    func testUnlabelledNamespaceUnderStandardDefaultsIsAllowedWithThePrivilegedPolicyAnnotation() {
        let result = answer(makeController(), review(object: privilegedPod()))
        XCTAssertEqual(result.outcome.httpStatus, 200)
        XCTAssertEqual(result.bodyText, #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"uid-1","allowed":true,"auditAnnotations":{"enforce-policy":"privileged:latest"}}}"#)
        XCTAssertEqual(result.outcome.metrics, [evaluation("allow", "privileged", "latest", "enforce")])
        XCTAssertEqual(result.outcome.log.decision, "allow")
        XCTAssertEqual(result.outcome.log.uid, "uid-1")
        XCTAssertEqual(result.outcome.log.kind, "Pod")
        XCTAssertEqual(result.outcome.log.namespace, "team")
        XCTAssertEqual(result.outcome.log.name, "web")
        XCTAssertEqual(result.outcome.log.operation, "CREATE")
        XCTAssertEqual(result.outcome.log.userName, "alice")
        XCTAssertEqual(result.outcome.log.policy, "enforce=privileged:latest, audit=privileged:latest, warn=privileged:latest")
    }

    /// The allowed enforce event, for every level, version kind and operation: the common case is served from
    /// arrays made once (`SharedPodEvents`), which must label exactly as every other event is labelled.
    func testAllowedEnforceEventIsLabelledAlikeAtEveryLevelVersionAndOperation() {
        for level in ["privileged", "baseline", "restricted"] {
            for (version, label) in [("latest", "latest"), ("v1.30", level == "privileged" ? "latest" : "v1.30")] {
                for operation in ["CREATE", "UPDATE"] {
                    let controller = makeController(namespaces: namespaces(["enforce": level, "enforce-version": version]))
                    // An update is evaluated when it is significant: here, the container's image changed.
                    let old = json(String(decoding: restrictedPod().serialized(), as: UTF8.self).replacingOccurrences(of: #""nginx""#, with: #""nginx:1""#))
                    let result = answer(controller, review(operation: operation, object: restrictedPod(),
                                                           oldObject: operation == "UPDATE" ? old : nil))
                    let context = "\(level):\(version) \(operation)"
                    XCTAssertEqual(result.outcome.log.decision, "allow", context)
                    XCTAssertEqual(result.outcome.metrics,
                                   [evaluation("allow", level, label, "enforce", operation: operation.lowercased())], context)
                }
            }
        }
    }

    func testPrivilegedAtAPinnedVersionStillAnnotatesPrivilegedLatest() {
        let controller = makeController(namespaces: namespaces(["enforce": "privileged", "enforce-version": "v1.22"]))
        let result = answer(controller, review(object: privilegedPod()))
        XCTAssertEqual(result.annotations, ["enforce-policy": "privileged:latest"])
        XCTAssertEqual(result.outcome.metrics, [evaluation("allow", "privileged", "latest", "enforce")])
    }

    func testConfiguredDefaultsApplyToUnlabelledNamespaces() {
        let configuration = AdmissionConfiguration(defaults: NamespacePolicy(
            enforce: LevelVersion(level: .baseline, version: .latest),
            audit: LevelVersion(level: .privileged, version: .latest),
            warn: LevelVersion(level: .privileged, version: .latest)))
        let result = answer(makeController(configuration: configuration), review(object: privilegedPod()))
        XCTAssertEqual(result.allowed, false)
        XCTAssertEqual(result.message, #"pods "web" is forbidden: violates PodSecurity "baseline:latest": "# + baselineDetail)
    }

    // MARK: Enforce

    func testEnforceDeniesWithPSAsForbiddenStatus() {
        let controller = makeController(namespaces: namespaces(["enforce": "baseline"]))
        let result = answer(controller, review(object: privilegedPod()))
        XCTAssertEqual(result.outcome.httpStatus, 200)
        XCTAssertEqual(result.allowed, false)
        let message = #"pods \"web\" is forbidden: violates PodSecurity \"baseline:latest\": privileged (container \"app\" must not set securityContext.privileged=true)"#
        XCTAssertEqual(result.statusText, #"{"metadata":{},"status":"Failure","message":""# + message + #"","reason":"Forbidden","details":{"name":"web","kind":"pods"},"code":403}"#)
        XCTAssertEqual(result.annotations, ["enforce-policy": "baseline:latest"])
        XCTAssertEqual(result.warnings, [], "no warnings on a denied request")
        XCTAssertEqual(result.outcome.metrics, [evaluation("deny", "baseline", "latest", "enforce")])
        XCTAssertEqual(result.outcome.log.decision, "deny")
        XCTAssertEqual(result.outcome.log.message, #"pods "web" is forbidden: violates PodSecurity "baseline:latest": "# + baselineDetail)
        XCTAssertNotNil(result.outcome.quotedMessage, "the log copies the message quoted from the body")
    }

    func testEnforceRestrictedMessage() {
        let controller = makeController(namespaces: namespaces(["enforce": "restricted"]))
        let result = answer(controller, review(object: plainPod()))
        XCTAssertEqual(result.allowed, false)
        XCTAssertEqual(result.message, #"pods "web" is forbidden: violates PodSecurity "restricted:latest": "# + restrictedDetail)
        XCTAssertEqual(result.code, "403")
    }

    func testForbiddenWithoutANameAsWithGenerateName() {
        let controller = makeController(namespaces: namespaces(["enforce": "baseline"]))
        let result = answer(controller, review(name: "", object: privilegedPod("")))
        XCTAssertEqual(result.message, #"pods is forbidden: violates PodSecurity "baseline:latest": "# + baselineDetail)
        XCTAssertEqual(result.status?["details"], json(#"{"kind":"pods"}"#))
    }

    func testCompliantPodIsAllowedUnderRestricted() {
        let controller = makeController(namespaces: namespaces(["enforce": "restricted", "audit": "restricted", "warn": "restricted"]))
        let result = answer(controller, review(object: restrictedPod()))
        XCTAssertEqual(result.allowed, true)
        XCTAssertNil(result.status)
        XCTAssertEqual(result.warnings, [])
        XCTAssertEqual(result.annotations, ["enforce-policy": "restricted:latest"])
        XCTAssertEqual(result.outcome.metrics, [evaluation("allow", "restricted", "latest", "enforce")])
    }

    // MARK: Audit and warn

    func testAuditAnnotatesViolations() {
        let controller = makeController(namespaces: namespaces(["audit": "restricted"]))
        let result = answer(controller, review(object: plainPod()))
        XCTAssertEqual(result.allowed, true)
        XCTAssertEqual(result.annotations, [
            "enforce-policy": "privileged:latest",
            "audit-violations": #"would violate PodSecurity "restricted:latest": "# + restrictedDetail,
        ])
        XCTAssertEqual(result.warnings, [])
        XCTAssertEqual(result.outcome.metrics, [
            evaluation("allow", "privileged", "latest", "enforce"),
            evaluation("deny", "restricted", "latest", "audit"),
        ])
        // Annotation keys are written sorted, as Go writes a map.
        XCTAssertTrue(result.bodyText.contains(#""auditAnnotations":{"audit-violations":"#), result.bodyText)
    }

    func testWarnAddsAWarning() {
        let controller = makeController(namespaces: namespaces(["warn": "baseline"]))
        let result = answer(controller, review(object: privilegedPod()))
        XCTAssertEqual(result.allowed, true)
        XCTAssertEqual(result.warnings, [#"would violate PodSecurity "baseline:latest": "# + baselineDetail])
        XCTAssertEqual(result.annotations, ["enforce-policy": "privileged:latest"])
        XCTAssertEqual(result.outcome.metrics, [
            evaluation("allow", "privileged", "latest", "enforce"),
            evaluation("deny", "baseline", "latest", "warn"),
        ])
    }

    func testEnforceAuditAndWarnTogether() {
        let controller = makeController(namespaces: namespaces(["enforce": "baseline", "audit": "restricted", "warn": "restricted"]))
        let result = answer(controller, review(object: plainPod()))
        XCTAssertEqual(result.allowed, true)
        XCTAssertEqual(result.annotations, [
            "enforce-policy": "baseline:latest",
            "audit-violations": #"would violate PodSecurity "restricted:latest": "# + restrictedDetail,
        ])
        XCTAssertEqual(result.warnings, [#"would violate PodSecurity "restricted:latest": "# + restrictedDetail])
        XCTAssertEqual(result.outcome.metrics, [
            evaluation("allow", "baseline", "latest", "enforce"),
            evaluation("deny", "restricted", "latest", "audit"),
            evaluation("deny", "restricted", "latest", "warn"),
        ])
    }

    func testDeniedRequestStillCarriesTheAuditAnnotation() {
        let controller = makeController(namespaces: namespaces(["enforce": "baseline", "audit": "baseline", "warn": "baseline"]))
        let result = answer(controller, review(object: privilegedPod()))
        XCTAssertEqual(result.allowed, false)
        XCTAssertEqual(result.annotations, [
            "enforce-policy": "baseline:latest",
            "audit-violations": #"would violate PodSecurity "baseline:latest": "# + baselineDetail,
        ])
        XCTAssertEqual(result.warnings, [])
    }

    func testOnePolicyIsEvaluatedOncePerRequest() {
        let sharedCount = Counter()
        let shared = makeController(namespaces: namespaces(["enforce": "restricted", "audit": "restricted", "warn": "restricted"]),
                                    evaluations: sharedCount)
        XCTAssertEqual(answer(shared, review(object: restrictedPod())).allowed, true)
        XCTAssertEqual(sharedCount.value, 1)

        let splitCount = Counter()
        let split = makeController(namespaces: namespaces(["enforce": "baseline", "audit": "restricted", "warn": "restricted"]),
                                   evaluations: splitCount)
        XCTAssertEqual(answer(split, review(object: plainPod())).warnings.count, 1)
        XCTAssertEqual(splitCount.value, 2, "baseline once, restricted once for audit and warn")

        let versionsCount = Counter()
        let versions = makeController(namespaces: namespaces(["enforce": "restricted", "audit": "restricted", "audit-version": "v1.30"]),
                                      evaluations: versionsCount)
        _ = answer(versions, review(object: restrictedPod()))
        XCTAssertEqual(versionsCount.value, 2, "restricted:latest (enforce, warn) and restricted:v1.30 (audit)")

        // Three policies: each evaluated once, each mode answered from its own (warn's message names its policy).
        let threeCount = Counter()
        let three = makeController(namespaces: namespaces(["enforce": "baseline", "audit": "restricted", "audit-version": "v1.30",
                                                           "warn": "restricted", "warn-version": "v1.22"]),
                                   evaluations: threeCount)
        let result = answer(three, review(object: plainPod()))
        XCTAssertEqual(threeCount.value, 3)
        XCTAssertEqual(result.allowed, true)
        XCTAssertEqual(result.warnings.map { $0.hasPrefix(#"would violate PodSecurity "restricted:v1.22""#) }, [true])
        XCTAssertEqual(result.annotations["audit-violations"]?.hasPrefix(#"would violate PodSecurity "restricted:v1.30""#), true)
        XCTAssertEqual(result.outcome.metrics, [
            evaluation("allow", "baseline", "latest", "enforce"), evaluation("deny", "restricted", "v1.30", "audit"),
            evaluation("deny", "restricted", "v1.22", "warn"),
        ])
    }

    func testPrivilegedNamespaceDoesNotRunTheEngine() {
        let count = Counter()
        _ = answer(makeController(evaluations: count), review(object: privilegedPod()))
        XCTAssertEqual(count.value, 0)
    }

    // MARK: Policy resolution through the labels

    func testWarnInheritsAStricterEnforceLevel() {
        let controller = makeController(namespaces: namespaces(["enforce": "restricted", "enforce-version": "v1.30"]))
        let result = answer(controller, review(object: restrictedPod()))
        XCTAssertEqual(result.outcome.log.policy, "enforce=restricted:v1.30, audit=privileged:latest, warn=restricted:v1.30")
    }

    func testVersionLabelsAndMetricVersions() {
        let controller = makeController(namespaces: namespaces(["enforce": "restricted", "enforce-version": "v1.30"]))
        let result = answer(controller, review(object: plainPod()))
        XCTAssertEqual(result.message, #"pods "web" is forbidden: violates PodSecurity "restricted:v1.30": "# + restrictedDetail)
        XCTAssertEqual(result.annotations, ["enforce-policy": "restricted:v1.30"])
        XCTAssertEqual(result.outcome.metrics, [evaluation("deny", "restricted", "v1.30", "enforce")])

        let future = makeController(namespaces: namespaces(["enforce": "baseline", "enforce-version": "v1.999"]))
        let futureResult = answer(future, review(object: plainPod()))
        XCTAssertEqual(futureResult.annotations, ["enforce-policy": "baseline:v1.999"])
        XCTAssertEqual(futureResult.outcome.metrics, [evaluation("allow", "baseline", "future", "enforce")])
    }

    func testInvalidEnforceLevelFailsClosedToRestrictedLatest() {
        let controller = makeController(namespaces: namespaces(["enforce": "foo"]))
        let result = answer(controller, review(object: plainPod()))
        XCTAssertEqual(result.allowed, false)
        XCTAssertEqual(result.message, #"pods "web" is forbidden: violates PodSecurity "restricted:latest": "# + restrictedDetail)
        XCTAssertEqual(result.annotations, [
            "enforce-policy": "restricted:latest",
            "error": #"Failed to parse policy: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "foo": must be one of privileged, baseline, restricted"#,
        ])
        XCTAssertEqual(result.outcome.metrics, [
            .error(fatal: false, operation: "create", resource: "pod", subresource: ""),
            evaluation("deny", "restricted", "latest", "enforce"),
        ])
    }

    func testInvalidVersionFallsBackToLatest() {
        let controller = makeController(namespaces: namespaces(["enforce": "baseline", "enforce-version": "1.30"]))
        let result = answer(controller, review(object: privilegedPod()))
        XCTAssertEqual(result.message, #"pods "web" is forbidden: violates PodSecurity "baseline:latest": "# + baselineDetail)
        XCTAssertEqual(result.annotations["error"], #"Failed to parse policy: metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: "1.30": must be "latest" or "v1.x""#)
    }

    func testInvalidWarnAndAuditLevelsFailOpen() {
        let controller = makeController(namespaces: namespaces(["warn": "bogus", "audit": "strict"]))
        let result = answer(controller, review(object: privilegedPod()))
        XCTAssertEqual(result.allowed, true)
        XCTAssertEqual(result.warnings, [])
        XCTAssertEqual(result.annotations, [
            "enforce-policy": "privileged:latest",
            "error": #"Failed to parse policy: [metadata.labels[pod-security.kubernetes.io/audit]: Invalid value: "strict": must be one of privileged, baseline, restricted, metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "bogus": must be one of privileged, baseline, restricted]"#,
        ])
        XCTAssertEqual(result.outcome.metrics, [
            .error(fatal: false, operation: "create", resource: "pod", subresource: ""),
            evaluation("allow", "privileged", "latest", "enforce"),
        ])
    }

    // MARK: Exemptions

    func testExemptUser() {
        let configuration = AdmissionConfiguration(
            defaults: NamespacePolicy(enforce: LevelVersion(level: .restricted, version: .latest),
                                      audit: LevelVersion(level: .restricted, version: .latest),
                                      warn: LevelVersion(level: .restricted, version: .latest)),
            exemptions: .init(usernames: ["system:serviceaccount:kube-system:replicaset-controller"]))
        // A failing lookup proves the exemption comes first.
        let controller = makeController(configuration: configuration, namespaces: FakeNamespaces(failing: ["team"]))
        let result = answer(controller, review(user: "system:serviceaccount:kube-system:replicaset-controller", object: privilegedPod()))
        XCTAssertEqual(result.allowed, true)
        XCTAssertEqual(result.bodyText, #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"uid-1","allowed":true,"auditAnnotations":{"exempt":"user"}}}"#)
        XCTAssertEqual(result.outcome.metrics, [.exemption(operation: "create", resource: "pod", subresource: "")])
        XCTAssertEqual(result.outcome.log.decision, "allow")
        XCTAssertEqual(result.outcome.log.message, "exempt: user")

        let other = answer(controller, review(user: "bob", object: privilegedPod()))
        XCTAssertEqual(other.allowed, false, "the lookup failure shows the user was not exempt")
    }

    /// An allowed review's log message: empty when the response carries nothing else, otherwise exemption, error,
    /// audit violations and each warning, in that order.
    func testAllowedLogMessage() {
        XCTAssertEqual(AdmissionController.allowedLogMessage(.allowed), "")
        var response = ReviewResponse(allowed: true, auditAnnotations: AuditAnnotations(enforcePolicy: "restricted:latest"))
        XCTAssertEqual(AdmissionController.allowedLogMessage(response), "")
        response.warnings = ["w1"]
        XCTAssertEqual(AdmissionController.allowedLogMessage(response), "warning: w1")
        response.auditAnnotations.auditViolations = "a"
        XCTAssertEqual(AdmissionController.allowedLogMessage(response), "audit: a; warning: w1")
        response.warnings.append("w2")
        response.auditAnnotations.error = "e"
        response.auditAnnotations.exempt = "user"
        XCTAssertEqual(AdmissionController.allowedLogMessage(response), "exempt: user; error: e; audit: a; warning: w1; warning: w2")
        XCTAssertEqual(AdmissionController.allowedLogMessage(.exempt("namespace")), "exempt: namespace")
        XCTAssertEqual(AdmissionController.allowedLogMessage(ReviewResponse(allowed: true, auditAnnotations: AuditAnnotations(error: "x"))), "error: x")
    }

    func testExemptNamespace() {
        let configuration = AdmissionConfiguration(exemptions: .init(namespaces: ["kube-system"]))
        let controller = makeController(configuration: configuration,
                                        namespaces: namespaces(["enforce": "restricted"], name: "kube-system"))
        let result = answer(controller, review(namespace: "kube-system", object: privilegedPod()))
        XCTAssertEqual(result.allowed, true)
        XCTAssertEqual(result.annotations, ["exempt": "namespace"])
        XCTAssertEqual(result.outcome.metrics, [.exemption(operation: "create", resource: "pod", subresource: "")])
    }

    func testExemptRuntimeClass() {
        let configuration = AdmissionConfiguration(exemptions: .init(runtimeClasses: ["kata"]))
        let controller = makeController(configuration: configuration, namespaces: namespaces(["enforce": "restricted"]))
        let exempt = answer(controller, review(object: privilegedPod(extraSpec: #","runtimeClassName":"kata""#)))
        XCTAssertEqual(exempt.allowed, true)
        XCTAssertEqual(exempt.annotations, ["exempt": "runtimeClass"])
        XCTAssertEqual(exempt.outcome.metrics, [.exemption(operation: "create", resource: "pod", subresource: "")])

        let other = answer(controller, review(object: plainPod(extraSpec: #","runtimeClassName":"gvisor""#)))
        XCTAssertEqual(other.allowed, false)
    }

    // MARK: Subresources and updates

    func testIgnoredSubresourcesAreAllowedWithoutEvaluation() {
        let controller = makeController(namespaces: namespaces(["enforce": "baseline"]))
        for subresource in ["exec", "attach", "binding", "eviction", "log", "portforward", "proxy", "status"] {
            let result = answer(controller, review(subResource: subresource, operation: "CREATE", object: privilegedPod()))
            XCTAssertEqual(result.bodyText, #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"uid-1","allowed":true}}"#, subresource)
            XCTAssertEqual(result.outcome.metrics, [], subresource)
        }
    }

    func testEphemeralContainersSubresourceIsEvaluated() {
        let controller = makeController(namespaces: namespaces(["enforce": "baseline"]))
        let old = plainPod()
        let new = json("""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"team"},
         "spec":{"containers":[{"name":"app","image":"nginx:1.25"}],
                 "ephemeralContainers":[{"name":"debug","image":"busybox","securityContext":{"privileged":true}}]}}
        """)
        let result = answer(controller, review(subResource: "ephemeralcontainers", operation: "UPDATE", object: new, oldObject: old))
        XCTAssertEqual(result.allowed, false)
        XCTAssertEqual(result.message, #"pods "web" is forbidden: violates PodSecurity "baseline:latest": privileged (container "debug" must not set securityContext.privileged=true)"#)
        XCTAssertEqual(result.outcome.metrics, [evaluation("deny", "baseline", "latest", "enforce", operation: "update", subresource: "ephemeralcontainers")])
    }

    func testInsignificantUpdateIsAllowedWithoutEvaluation() {
        let controller = makeController(namespaces: namespaces(["enforce": "baseline"]))
        let old = privilegedPod()
        let new = json("""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"team","labels":{"new":"label"},"annotations":{"a":"b"}},
         "spec":{"containers":[{"name":"app","image":"nginx","securityContext":{"privileged":true}}],"activeDeadlineSeconds":30}}
        """)
        let result = answer(controller, review(operation: "UPDATE", object: new, oldObject: old))
        XCTAssertEqual(result.bodyText, #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"uid-1","allowed":true}}"#)
        XCTAssertEqual(result.outcome.metrics, [])
    }

    func testSignificantUpdatesAreEvaluated() {
        let controller = makeController(namespaces: namespaces(["enforce": "baseline"]))
        let old = privilegedPod()
        let newImage = json("""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"team"},
         "spec":{"containers":[{"name":"app","image":"nginx:2","securityContext":{"privileged":true}}]}}
        """)
        XCTAssertEqual(answer(controller, review(operation: "UPDATE", object: newImage, oldObject: old)).allowed, false)

        let newSeccomp = json("""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"team","annotations":{"container.seccomp.security.alpha.kubernetes.io/app":"unconfined"}},
         "spec":{"containers":[{"name":"app","image":"nginx","securityContext":{"privileged":true}}]}}
        """)
        XCTAssertEqual(answer(controller, review(operation: "UPDATE", object: newSeccomp, oldObject: old)).allowed, false)

        XCTAssertTrue(isSignificantPodUpdate(
            json(#"{"spec":{"containers":[{"name":"a"}],"initContainers":[{"name":"i"}]}}"#),
            json(#"{"spec":{"containers":[{"name":"a"}]}}"#)))
        XCTAssertTrue(isSignificantPodUpdate(
            json(#"{"spec":{"ephemeralContainers":[{"name":"d","image":"x"}]}}"#),
            json(#"{"spec":{"ephemeralContainers":[{"name":"e","image":"x"}]}}"#)))
        XCTAssertFalse(isSignificantPodUpdate(
            json(#"{"metadata":{"annotations":{"seccomp.security.alpha.kubernetes.io/pod":"unconfined"}},"spec":{"containers":[{"name":"a","image":"x"}]}}"#),
            json(#"{"spec":{"containers":[{"name":"a","image":"x"}]}}"#)),
            "the pod-level seccomp annotation no longer counts (current PSA)")
    }

    func testDeleteAndConnectAreNotEvaluated() {
        let controller = makeController(namespaces: namespaces(["enforce": "restricted"]))
        let result = answer(controller, review(operation: "DELETE", object: nil, oldObject: privilegedPod()))
        XCTAssertEqual(result.allowed, true)
        XCTAssertEqual(result.outcome.metrics, [])
    }

    // MARK: Failures

    func testNamespaceLookupFailureDeniesWithAnInternalError() {
        let controller = makeController(namespaces: FakeNamespaces(failing: ["team"]))
        let result = answer(controller, review(object: plainPod()))
        XCTAssertEqual(result.outcome.httpStatus, 200)
        XCTAssertEqual(result.allowed, false)
        XCTAssertEqual(result.statusText, #"{"metadata":{},"status":"Failure","message":"Internal error occurred: failed to lookup namespace \"team\"","reason":"InternalError","details":{"causes":[{"message":"failed to lookup namespace \"team\""}]},"code":500}"#)
        XCTAssertEqual(result.annotations, ["error": #"Internal error occurred: failed to lookup namespace "team": connection refused"#])
        XCTAssertEqual(result.outcome.metrics, [.error(fatal: true, operation: "create", resource: "pod", subresource: "")])
        XCTAssertEqual(result.outcome.log.decision, "error")
        XCTAssertNil(result.outcome.quotedMessage, "the log's message has the cause after the status message")
    }

    func testMissingNamespaceIsALookupFailure() {
        let controller = makeController(namespaces: FakeNamespaces())
        let result = answer(controller, review(object: plainPod()))
        XCTAssertEqual(result.allowed, false)
        XCTAssertEqual(result.code, "500")
        XCTAssertEqual(result.annotations, ["error": #"Internal error occurred: failed to lookup namespace "team": namespaces "team" not found"#])
    }

    func testDefaultsOnlyNamespacesApplyTheDefaults() {
        let controller = AdmissionController(configuration: .standard, namespaces: DefaultsOnlyNamespaces(), pods: NoPods())
        let result = answer(controller, review(namespace: "anything", object: privilegedPod()))
        XCTAssertEqual(result.allowed, true)
        XCTAssertEqual(result.annotations, ["enforce-policy": "privileged:latest"])
    }

    func testUndecodablePods() {
        let controller = makeController(namespaces: namespaces(["enforce": "baseline"]))

        let missing = answer(controller, review(object: nil))
        XCTAssertEqual(missing.statusText, #"{"metadata":{},"status":"Failure","message":"failed to decode pod","reason":"BadRequest","code":400}"#)
        XCTAssertEqual(missing.annotations, ["error": "failed to decode pod"])
        XCTAssertEqual(missing.outcome.metrics, [.error(fatal: true, operation: "create", resource: "pod", subresource: "")])
        XCTAssertEqual(missing.outcome.log.decision, "error")

        let notAnObject = answer(controller, review(object: .string("pod")))
        XCTAssertEqual(notAnObject.message, "failed to decode object")
        XCTAssertEqual(notAnObject.code, "400")
        XCTAssertEqual(notAnObject.annotations, ["error": "failed to decode object: expected a Pod object, got string"])

        let wrongKind = answer(controller, review(object: json(#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"}}"#)))
        XCTAssertEqual(wrongKind.message, "failed to decode pod")

        let missingOld = answer(controller, review(operation: "UPDATE", object: plainPod(), oldObject: nil))
        XCTAssertEqual(missingOld.message, "failed to decode old pod")
        let wrongKindOld = answer(controller, review(operation: "UPDATE", object: plainPod(), oldObject: json(#"{"kind":"Node"}"#)))
        XCTAssertEqual(wrongKindOld.message, "failed to decode old pod")
        XCTAssertEqual(wrongKindOld.annotations, ["error": "failed to decode old pod"])
        let badOld = answer(controller, review(operation: "UPDATE", object: plainPod(), oldObject: json(#"{"kind":"Pod","spec":{"containers":7}}"#)))
        XCTAssertEqual(badOld.message, "failed to decode old object")
        XCTAssertEqual(badOld.annotations["error"]?.hasPrefix("failed to decode old object: spec.containers"), true)
        XCTAssertEqual(badOld.outcome.metrics, [.error(fatal: true, operation: "update", resource: "pod", subresource: "")])
        XCTAssertTrue(badOld.outcome.log.message.hasPrefix("failed to decode old object: spec.containers"), badOld.outcome.log.message)

        // The object's kind is compared by its bytes; empty or null, the request's kind stands in.
        func kindAnswer(_ objectKind: String, requestKind: String = "Pod") -> Answer {
            let body = review(kind: requestKind, object: json(#"{"kind":\#(objectKind),"metadata":{"name":"web"},"spec":{"containers":[{"name":"app","image":"x","securityContext":{"privileged":true}}]}}"#))
            return answer(controller, body)
        }
        for kind in [#""Pod""#, #""P\u006fd""#, #""""#, "null"] {
            XCTAssertEqual(kindAnswer(kind).message?.hasPrefix(#"pods "web" is forbidden"#), true, kind)
        }
        XCTAssertEqual(kindAnswer(#""Pod""#, requestKind: "Deployment").message?.hasPrefix(#"pods "web" is forbidden"#), true)
        for (kind, requestKind) in [(#""""#, "Deployment"), (#""pod""#, "Pod"), (#""Pods""#, "Pod"), (#""Po""#, "Pod"), ("null", "")] {
            XCTAssertEqual(kindAnswer(kind, requestKind: requestKind).message, "failed to decode pod", kind)
        }
        XCTAssertEqual(kindAnswer("1").annotations["error"], "failed to decode object: kind: expected a string, got number")
    }

    func testPodWithAFieldOfTheWrongTypeNamesTheField() throws {
        let controller = makeController(namespaces: namespaces(["enforce": "baseline"]))
        let pod = json(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"containers":"nginx"}}"#)
        let result = answer(controller, review(object: pod))
        XCTAssertEqual(result.allowed, false)
        XCTAssertEqual(result.message, "failed to decode object")
        XCTAssertEqual(result.code, "400")
        XCTAssertTrue(result.annotations["error"]?.hasPrefix("failed to decode object: spec.containers") == true,
                      result.annotations["error"] ?? "")
        XCTAssertTrue(result.outcome.log.message.contains("spec.containers"), result.outcome.log.message)
    }

    func testPrivilegedNamespaceSkipsDecoding() {
        let controller = makeController()
        let result = answer(controller, review(object: .string("not a pod")))
        XCTAssertEqual(result.allowed, true, "PSA short-circuits before decoding in a fully privileged namespace")
    }
}
