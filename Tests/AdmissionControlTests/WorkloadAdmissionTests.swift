@testable import AdmissionControl
import PodSecurity
import StrictJSON
import XCTest

final class WorkloadAdmissionTests: XCTestCase {
    /// The privileged pod template, as each kind embeds it.
    static let template = #"{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"app","image":"nginx","securityContext":{"privileged":true}}]}}"#

    static let kinds: [(kind: String, resource: String, group: String, object: String)] = [
        ("Deployment", "deployments", "apps", #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"workload"},"spec":{"replicas":2,"template":\#(template)}}"#),
        ("ReplicaSet", "replicasets", "apps", #"{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"workload"},"spec":{"template":\#(template)}}"#),
        ("StatefulSet", "statefulsets", "apps", #"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"workload"},"spec":{"template":\#(template)}}"#),
        ("DaemonSet", "daemonsets", "apps", #"{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"workload"},"spec":{"template":\#(template)}}"#),
        ("Job", "jobs", "batch", #"{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"workload"},"spec":{"template":\#(template)}}"#),
        ("CronJob", "cronjobs", "batch", #"{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"workload"},"spec":{"schedule":"* * * * *","jobTemplate":{"spec":{"template":\#(template)}}}}"#),
        ("ReplicationController", "replicationcontrollers", "", #"{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"workload"},"spec":{"template":\#(template)}}"#),
        ("PodTemplate", "podtemplates", "", #"{"apiVersion":"v1","kind":"PodTemplate","metadata":{"name":"workload"},"template":\#(template)}"#),
    ]

    func testEveryWorkloadKindIsWarnedAndAuditedButNeverDenied() {
        let controller = makeController(namespaces: namespaces(["enforce": "baseline", "audit": "baseline"]))
        for entry in Self.kinds {
            let result = answer(controller, workloadReview(kind: entry.kind, resource: entry.resource, group: entry.group, object: json(entry.object)))
            XCTAssertEqual(result.allowed, true, entry.kind)
            XCTAssertNil(result.status, entry.kind)
            XCTAssertEqual(result.warnings, [#"would violate PodSecurity "baseline:latest": "# + baselineDetail], entry.kind)
            XCTAssertEqual(result.annotations, ["audit-violations": #"would violate PodSecurity "baseline:latest": "# + baselineDetail], entry.kind)
            XCTAssertEqual(result.outcome.metrics, [
                evaluation("deny", "baseline", "latest", "audit", resource: "controller"),
                evaluation("deny", "baseline", "latest", "warn", resource: "controller"),
            ], entry.kind)
            XCTAssertEqual(result.outcome.log.decision, "allow", entry.kind)
        }
    }

    func testWarnInheritsEnforceForWorkloads() {
        let controller = makeController(namespaces: namespaces(["enforce": "baseline"]))
        let entry = Self.kinds[0]
        let result = answer(controller, workloadReview(kind: entry.kind, resource: entry.resource, object: json(entry.object)))
        XCTAssertEqual(result.allowed, true)
        XCTAssertEqual(result.warnings, [#"would violate PodSecurity "baseline:latest": "# + baselineDetail])
        XCTAssertEqual(result.annotations, [:], "no enforce-policy annotation for workloads")
    }

    func testCompliantWorkloadHasNoWarnings() {
        let controller = makeController(namespaces: namespaces(["enforce": "restricted"]))
        let object = json("""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"workload"},"spec":{"template":{"spec":{
          "securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},
          "containers":[{"name":"app","image":"nginx","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}}}
        """)
        let result = answer(controller, workloadReview(kind: "Deployment", resource: "deployments", object: object))
        XCTAssertEqual(result.bodyText, #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"uid-1","allowed":true}}"#)
        XCTAssertEqual(result.outcome.metrics, [])
    }

    func testPrivilegedAuditAndWarnSkipEvaluation() {
        let count = Counter()
        let controller = makeController(namespaces: namespaces(["enforce": "restricted", "warn": "privileged"]), evaluations: count)
        let entry = Self.kinds[0]
        let result = answer(controller, workloadReview(kind: entry.kind, resource: entry.resource, object: json(entry.object)))
        XCTAssertEqual(result.allowed, true)
        XCTAssertEqual(result.warnings, [])
        XCTAssertEqual(count.value, 0)
    }

    func testReplicationControllerWithoutATemplateIsNotEvaluated() {
        let controller = makeController(namespaces: namespaces(["warn": "restricted"]))
        let object = json(#"{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"workload"},"spec":{"replicas":0}}"#)
        let result = answer(controller, workloadReview(kind: "ReplicationController", resource: "replicationcontrollers", group: "", object: object))
        XCTAssertEqual(result.bodyText, #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"uid-1","allowed":true}}"#)
    }

    func testSubresourcesOfWorkloadsAreIgnored() {
        let controller = makeController(namespaces: namespaces(["warn": "baseline"]))
        let entry = Self.kinds[0]
        let result = answer(controller, workloadReview(kind: "Scale", resource: "deployments", object: json(entry.object), subResource: "scale"))
        XCTAssertEqual(result.allowed, true)
        XCTAssertEqual(result.warnings, [])
        XCTAssertEqual(result.outcome.metrics, [])
    }

    func testUnknownKindIsAllowedWithAnErrorAnnotation() {
        let controller = makeController(namespaces: namespaces(["warn": "baseline"]))
        let object = json(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"workload"},"data":{}}"#)
        let result = answer(controller, review(resource: "configmaps", kind: "ConfigMap", object: object))
        XCTAssertEqual(result.allowed, true)
        XCTAssertEqual(result.annotations, ["error": "failed to extract pod template: unexpected object type: /v1, Kind=ConfigMap"])
        XCTAssertEqual(result.outcome.metrics, [.error(fatal: true, operation: "create", resource: "controller", subresource: "")])

        // The group and version come from the object's apiVersion, or else from the request's kind (read only
        // for this message: escapes decoded, null as empty).
        func message(object: String, group: String, version: String) -> String? {
            let body = #"{"request":{"uid":"u","kind":{"group":\#(group),"version":\#(version),"kind":"Widget"},"#
                + #""resource":{"group":"x.io","version":"v1","resource":"widgets"},"operation":"CREATE","namespace":"team","object":\#(object)}}"#
            return answer(controller, Array(body.utf8)).annotations["error"]
        }
        let prefix = "failed to extract pod template: unexpected object type: "
        XCTAssertEqual(message(object: "{}", group: #""x\u002eio""#, version: #""v1\"b""#), prefix + #"x.io/v1"b, Kind=Widget"#)
        XCTAssertEqual(message(object: "{}", group: "null", version: "null"), prefix + "/, Kind=Widget")
        XCTAssertEqual(message(object: #"{"apiVersion":"y.io/v2"}"#, group: #""x.io""#, version: #""v1""#), prefix + "y.io/v2, Kind=Widget")
        XCTAssertEqual(message(object: #"{"apiVersion":""}"#, group: #""x.io""#, version: #""v1""#), prefix + "x.io/v1, Kind=Widget")
        XCTAssertEqual(badRequestMessage(controller, #"{"request":{"uid":"u","kind":{"version":1}}}"#),
                       "unable to decode the request: request.kind.version: expected a string, got number")
        XCTAssertEqual(badRequestMessage(controller, #"{"request":{"uid":"u","resource":{"version":[]}}}"#),
                       "unable to decode the request: request.resource.version: expected a string, got array")
    }

    private func badRequestMessage(_ controller: AdmissionController, _ body: String) -> String? {
        let outcome = controller.handle(reviewBody: Array(body.utf8), deadline: .now + .seconds(5))
        XCTAssertEqual(outcome.httpStatus, 400)
        return (try? JSONParser.parse(outcome.body))?["message"]?.stringValue
    }

    func testUndecodableTemplateIsAllowedWithAnErrorAnnotation() {
        let controller = makeController(namespaces: namespaces(["warn": "baseline"]))
        let object = json(#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"workload"},"spec":{"template":"nginx"}}"#)
        let result = answer(controller, workloadReview(kind: "Deployment", resource: "deployments", object: object))
        XCTAssertEqual(result.allowed, true)
        XCTAssertEqual(result.annotations, ["error": "failed to decode object: spec.template: expected an object, got string"])
        XCTAssertEqual(result.outcome.metrics, [.error(fatal: true, operation: "create", resource: "controller", subresource: "")])

        let missing = answer(controller, workloadReview(kind: "Deployment", resource: "deployments", object: .null))
        XCTAssertEqual(missing.allowed, true)
        XCTAssertEqual(missing.annotations["error"], "failed to decode object: request.object is missing")
    }

    func testNamespaceLookupFailureAllowsWithAnErrorAnnotation() {
        let controller = makeController(namespaces: FakeNamespaces(failing: ["team"]))
        let entry = Self.kinds[0]
        let result = answer(controller, workloadReview(kind: entry.kind, resource: entry.resource, object: json(entry.object)))
        XCTAssertEqual(result.allowed, true)
        XCTAssertNil(result.status)
        XCTAssertEqual(result.annotations, ["error": #"failed to lookup namespace "team": connection refused"#])
        XCTAssertEqual(result.outcome.metrics, [.error(fatal: true, operation: "create", resource: "controller", subresource: "")])
    }

    func testWorkloadExemptions() {
        let configuration = AdmissionConfiguration(
            defaults: NamespacePolicy(enforce: LevelVersion(level: .baseline, version: .latest),
                                      audit: LevelVersion(level: .baseline, version: .latest),
                                      warn: LevelVersion(level: .baseline, version: .latest)),
            exemptions: .init(usernames: ["ci"], namespaces: ["kube-system"], runtimeClasses: ["kata"]))
        let controller = makeController(configuration: configuration,
                                        namespaces: FakeNamespaces(labels: ["team": [:], "kube-system": [:]]))
        let entry = Self.kinds[0]
        let user = answer(controller, workloadReview(kind: entry.kind, resource: entry.resource, object: json(entry.object), user: "ci"))
        XCTAssertEqual(user.annotations, ["exempt": "user"])
        XCTAssertEqual(user.outcome.metrics, [.exemption(operation: "create", resource: "controller", subresource: "")])
        let namespace = answer(controller, workloadReview(kind: entry.kind, resource: entry.resource, object: json(entry.object), namespace: "kube-system"))
        XCTAssertEqual(namespace.annotations, ["exempt": "namespace"])
        let kata = json(#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"workload"},"spec":{"template":{"spec":{"runtimeClassName":"kata","containers":[{"name":"app","image":"x","securityContext":{"privileged":true}}]}}}}"#)
        let runtimeClass = answer(controller, workloadReview(kind: "Deployment", resource: "deployments", object: kata))
        XCTAssertEqual(runtimeClass.annotations, ["exempt": "runtimeClass"])
        XCTAssertEqual(runtimeClass.warnings, [])
    }

    func testWorkloadWithInvalidLabelsCarriesTheParseError() {
        let controller = makeController(namespaces: namespaces(["warn": "baseline", "audit-version": "next"]))
        let entry = Self.kinds[0]
        let result = answer(controller, workloadReview(kind: entry.kind, resource: entry.resource, object: json(entry.object)))
        XCTAssertEqual(result.annotations, ["error": #"Failed to parse policy: metadata.labels[pod-security.kubernetes.io/audit-version]: Invalid value: "next": must be "latest" or "v1.x""#])
        XCTAssertEqual(result.warnings, [#"would violate PodSecurity "baseline:latest": "# + baselineDetail])
        XCTAssertEqual(result.outcome.metrics, [
            .error(fatal: false, operation: "create", resource: "controller", subresource: ""),
            evaluation("deny", "baseline", "latest", "warn", resource: "controller"),
        ])
    }
}
