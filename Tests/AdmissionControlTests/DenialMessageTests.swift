@testable import AdmissionControl
import PodSecurity
import StrictJSON
import XCTest

/// The audit annotation of a request denied at the same policy is copied from the end of the status message:
/// it must read as the message written from the violations, whatever the names hold.
final class DenialMessageTests: XCTestCase {
    func testAuditAnnotationAtTheEnforcePolicyMatchesTheEvaluation() throws {
        let names: [[String]] = [["app"], ["a", "b"], ["init", "app", "debug"], [#"q"u\ote"#, "é🚀", "sep\u{2028}", "ctl\u{1}<"]]
        for containerNames in names {
            for (level, version) in [("restricted", "latest"), ("restricted", "v1.22"), ("baseline", "latest")] {
                let containers = containerNames.map { name -> JSONValue in
                    .object(JSONObject(["name": .string(name), "image": .string("x"),
                                        "securityContext": .object(JSONObject(["privileged": .bool(true)]))]))
                }
                let pod = JSONValue.object(JSONObject([
                    "apiVersion": .string("v1"), "kind": .string("Pod"),
                    "metadata": .object(JSONObject(["name": .string("web"), "namespace": .string("team")])),
                    "spec": .object(JSONObject(["containers": .array(containers)])),
                ]))
                let modes = ["enforce": level, "enforce-version": version, "audit": level, "audit-version": version]
                let controller = makeController(namespaces: namespaces(modes))
                let result = answer(controller, review(name: "w\"é", object: pod))
                XCTAssertEqual(result.allowed, false)

                let policy = LevelVersion(level: Level(parsing: level)!, version: Version(parsing: version)!)
                let evaluation = PodSecurityEvaluator.evaluate(try Pod(decoding: pod), at: policy)
                let violates = evaluation.message(for: policy)
                XCTAssertEqual(result.message, #"pods "w\"é" is forbidden: "# + violates)
                XCTAssertEqual(result.annotations["audit-violations"], "would violate" + violates.dropFirst("violates".count))
                XCTAssertEqual(result.outcome.log.message, result.message)
            }
        }
    }

    /// Audit at another policy than enforce writes its own message.
    func testAuditAtAnotherPolicyWritesItsOwnMessage() throws {
        let controller = makeController(namespaces: namespaces(["enforce": "baseline", "audit": "restricted"]))
        let result = answer(controller, review(object: privilegedPod()))
        XCTAssertEqual(result.allowed, false)
        XCTAssertEqual(result.message, #"pods "web" is forbidden: violates PodSecurity "baseline:latest": "# + baselineDetail)
        let restricted = LevelVersion(level: .restricted, version: .latest)
        let evaluation = PodSecurityEvaluator.evaluate(try Pod(decoding: privilegedPod()), at: restricted)
        XCTAssertEqual(result.annotations["audit-violations"],
                       "would violate" + evaluation.message(for: restricted).dropFirst("violates".count))
    }
}
