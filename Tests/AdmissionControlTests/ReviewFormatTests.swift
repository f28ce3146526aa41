@testable import AdmissionControl
import PodSecurity
import StrictJSON
import XCTest

final class ReviewFormatTests: XCTestCase {
    func badRequest(_ body: String, file: StaticString = #filePath, line: UInt = #line) -> (status: Int, message: String, outcome: AdmissionOutcome) {
        let outcome = makeController().handle(reviewBody: Array(body.utf8), deadline: .now + .seconds(5))
        let document = (try? JSONParser.parse(outcome.body)) ?? .null
        XCTAssertEqual(document["kind"], .string("Status"), file: file, line: line)
        XCTAssertEqual(document["apiVersion"], .string("v1"), file: file, line: line)
        XCTAssertEqual(document["status"], .string("Failure"), file: file, line: line)
        XCTAssertEqual(document["reason"], .string("BadRequest"), file: file, line: line)
        XCTAssertEqual(document["code"], .number(JSONNumber(400)), file: file, line: line)
        XCTAssertEqual(outcome.log.decision, "error", file: file, line: line)
        XCTAssertEqual(outcome.metrics, [], file: file, line: line)
        return (outcome.httpStatus, document["message"]?.stringValue ?? "", outcome)
    }

    func testBadBodiesAre400WithAStatusThatSaysWhatIsWrong() {
        let notJSON = badRequest("{nope")
        XCTAssertEqual(notJSON.status, 400)
        XCTAssertTrue(notJSON.message.hasPrefix("unable to decode the request: invalid JSON at line 1, column"), notJSON.message)

        XCTAssertEqual(badRequest("[1,2]").message, "unable to decode the request: expected an AdmissionReview object, got array")
        XCTAssertEqual(badRequest(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#).message, "the AdmissionReview has no request")
        XCTAssertEqual(badRequest(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":null}"#).message, "the AdmissionReview has no request")
        XCTAssertEqual(badRequest(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":[]}"#).message,
                       "unable to decode the request: request: expected an object, got array")
        XCTAssertEqual(badRequest(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE"}}"#).message,
                       "the AdmissionReview request has no uid")
        XCTAssertEqual(badRequest(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":7}}"#).message,
                       "unable to decode the request: request.uid: expected a string, got number")
        XCTAssertEqual(badRequest(#"{"apiVersion":"admission.k8s.io/v1","kind":"Pod","request":{"uid":"u"}}"#).message,
                       "unexpected AdmissionReview kind: admission.k8s.io/v1, Kind=Pod")
        XCTAssertEqual(badRequest(#"{"apiVersion":"v1","kind":"AdmissionReview","request":{"uid":"u"}}"#).message,
                       "unexpected AdmissionReview kind: /v1, Kind=AdmissionReview")
        XCTAssertEqual(badRequest(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","userInfo":"bob"}}"#).message,
                       "unable to decode the request: request.userInfo: expected an object, got string")
    }

    /// The request's members are read as Go's decoder reads them: a repeated key's last value wins, escaped
    /// keys are their decoded text, and the error reported for two bad fields does not depend on their order.
    func testRequestMembersRepeatedEscapedAndInAnyOrder() {
        let head = #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":"#
        let repeated = head + #"{"uid":"first","u\u0069d":"last","operation":"CREATE","namespace":"a","namespace":"team","#
            + #""kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"#
            + #""object":{"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"app","image":"x"}]}}}}"#
        let result = answer(makeController(), Array(repeated.utf8))
        XCTAssertEqual(result.bodyText, #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"last","allowed":true,"auditAnnotations":{"enforce-policy":"privileged:latest"}}}"#)
        XCTAssertEqual(result.outcome.log.namespace, "team")
        for body in [head + #"{"userInfo":1,"uid":2}}"#, head + #"{"uid":2,"userInfo":1}}"#] {
            XCTAssertEqual(badRequest(body).message, "unable to decode the request: request.uid: expected a string, got number", body)
        }
    }

    /// The values most reviews carry (versions, kinds, resources, operations) are answered with literals when
    /// their bytes spell one; spelled with escapes, near them, or empty, they read the same as any other string.
    func testKnownRequestValuesReadAlikeHoweverSpelled() {
        func request(apiVersion: String, operation: String, kind: String, resource: String) -> String {
            #"{"apiVersion":"\#(apiVersion)","kind":"Admissi\u006fnReview","request":{"uid":"u","operation":"\#(operation)","#
                + #""kind":{"group":"","version":"v\u0031","kind":"\#(kind)"},"resource":{"group":"","version":"v1","resource":"\#(resource)"},"#
                + #""name":"p","namespace":"team","object":{"metadata":{"name":"p"},"spec":{"containers":[{"name":"app","image":"x"}]}}}}"#
        }
        let controller = makeController(namespaces: namespaces(["enforce": "restricted"]))
        let plain = answer(controller, Array(request(apiVersion: "admission.k8s.io/v1beta1", operation: "CREATE", kind: "Pod", resource: "pods").utf8))
        let escaped = answer(controller, Array(request(apiVersion: #"admission.k8s.io\/v1beta1"#, operation: #"CR\u0045ATE"#,
                                                       kind: #"P\u006fd"#, resource: #"p\u006fds"#).utf8))
        XCTAssertEqual(plain.allowed, false)
        XCTAssertEqual(plain.bodyText, escaped.bodyText)
        XCTAssertEqual(plain.outcome.log, escaped.outcome.log)
        XCTAssertEqual(plain.outcome.metrics, escaped.outcome.metrics)
        XCTAssertTrue(plain.bodyText.hasPrefix(#"{"apiVersion":"admission.k8s.io/v1beta1","#))
        // Near misses are not the literal: another operation is not evaluated, another resource is a workload.
        let lower = answer(controller, Array(request(apiVersion: "admission.k8s.io/v1", operation: "CREATEx", kind: "Pod", resource: "pods").utf8))
        XCTAssertEqual(lower.allowed, true)
        XCTAssertEqual(lower.outcome.log.operation, "CREATEx")
        XCTAssertEqual(lower.outcome.metrics, [])
        let pod1 = answer(controller, Array(request(apiVersion: "admission.k8s.io/v1", operation: "UPDATE", kind: "Pod", resource: "pods1").utf8))
        XCTAssertEqual(pod1.allowed, true)  // as a pod it would be denied
        XCTAssertEqual(pod1.outcome.log.decision, "allow")
        XCTAssertEqual(badRequest(#"{"apiVersion":"admission.k8s.io/v1beta","request":{"uid":"u"}}"#).message,
                       "unexpected AdmissionReview kind: admission.k8s.io/v1beta, Kind=AdmissionReview")
        XCTAssertEqual(badRequest(#"{"apiVersion":"admission.k8s.io/v1","kind":"","request":{"uid":"u","operation":7}}"#).message,
                       "unable to decode the request: request.operation: expected a string, got number")
    }

    /// The review's, the request's and the nested objects' members are each found in one pass by a matcher with
    /// the names spelled out beside their cases: each name must be its case's, and near misses none.
    func testFieldMatchersMatchTheirCases() {
        func check<Field: ReviewFieldName & Equatable>(_: Field.Type, file: StaticString = #filePath, line: UInt = #line) {
            for field in Field.allCases {
                var name = "\(field)"
                XCTAssertEqual(name.withUTF8(Field.matching), field, name, file: file, line: line)
                for variant in [name + "x", String(name.dropLast()), name.uppercased(), "x" + name, ""] {
                    var variant = variant
                    XCTAssertNil(variant.withUTF8(Field.matching), variant, file: file, line: line)
                }
            }
        }
        check(ReviewField.self)
        check(RequestField.self)
        check(NestedField.self)
        for value in KnownValue.allCases {
            var text = value.text
            XCTAssertEqual(text.withUTF8(KnownValue.matching), value, text)
            for variant in [text + "x", String(text.dropLast()), text.lowercased() == text ? text.uppercased() : text.lowercased(), "x" + text] {
                var variant = variant
                XCTAssertNil(variant.withUTF8(KnownValue.matching), variant)
            }
        }
    }

    /// Members of the review and of the request's kind, resource and userInfo: escaped keys are their decoded
    /// text, a repeated key's last value wins, unknown members are ignored.
    func testNestedMembersRepeatedAndEscaped() {
        let body = #"{"kind":"x","k\u0069nd":"AdmissionReview","apiVersion":"admission.k8s.io/v1beta1","request":{"uid":"u","#
            + #""kind":{"kind":"Deployment","group":"","k\u0069nd":"Pod","version":"v1","extra":{"kind":1}},"#
            + #""resource":{"resource":"deployments","group":"","version":"v2","r\u0065source":"pods","version":"v1"},"#
            + #""userInfo":{"username":"bob","usern\u0061me":"alice","uid":"x"},"operation":"CREATE","namespace":"team","name":"p","#
            + #""object":{"metadata":{"name":"p"},"spec":{"containers":[{"name":"app","image":"x"}]}}}}"#
        let result = answer(makeController(namespaces: namespaces(["enforce": "restricted"])), Array(body.utf8))
        XCTAssertEqual(result.allowed, false, result.bodyText)  // read as a pod
        XCTAssertTrue(result.bodyText.hasPrefix(#"{"apiVersion":"admission.k8s.io/v1beta1","#), result.bodyText)
        XCTAssertEqual(result.outcome.log.kind, "Pod")
        XCTAssertEqual(result.outcome.log.userName, "alice")
        XCTAssertEqual(badRequest(#"{"request":{"uid":"u","kind":{"group":"","version":"v1","kind":"Pod","kind":1}}}"#).message,
                       "unable to decode the request: request.kind.kind: expected a string, got number")
        XCTAssertEqual(badRequest(#"{"request":{"uid":"u","resource":{"resource":[],"group":1}}}"#).message,
                       "unable to decode the request: request.resource.group: expected a string, got number")
        XCTAssertEqual(badRequest(#"{"request":{"uid":"u","userInfo":{"username":{}}}}"#).message,
                       "unable to decode the request: request.userInfo.username: expected a string, got object")
    }

    /// Literals are copied into the array's spare capacity: the same bytes whether the array is empty, full to
    /// its capacity, or has room.
    func testLiteralAppend() {
        for prefix in 0..<40 {
            var output = [UInt8](repeating: 0x61, count: prefix)
            var expected = output
            append(#","auditAnnotations":{"#, to: &output)
            append("}", to: &output)
            append("", to: &output)
            expected.append(contentsOf: #","auditAnnotations":{}"#.utf8)
            XCTAssertEqual(output, expected)
            var reserved: [UInt8] = []
            reserved.reserveCapacity(prefix + 40)
            reserved.append(contentsOf: repeatElement(0x62, count: prefix))
            append(#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","response":{"uid":"#, to: &reserved)
            XCTAssertEqual(reserved, Array(repeatElement(0x62, count: prefix))
                + Array(#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","response":{"uid":"#.utf8))
        }
    }

    func testBadRequestBodyIsExact() {
        let outcome = makeController().handle(reviewBody: Array(#"{"kind":"AdmissionReview"}"#.utf8), deadline: .now + .seconds(5))
        XCTAssertEqual(outcome.httpStatus, 400)
        XCTAssertEqual(String(decoding: outcome.body, as: UTF8.self),
                       #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"the AdmissionReview has no request","reason":"BadRequest","code":400}"#)
        XCTAssertEqual(outcome.log.message, "the AdmissionReview has no request")
    }

    func testMissingApiVersionAndKindDefaultToV1AsGoDecodes() {
        let body = #"{"request":{"uid":"u-2","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"team","operation":"CREATE","object":{"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"app","image":"x"}]}}}}"#
        let result = answer(makeController(), Array(body.utf8))
        XCTAssertEqual(result.bodyText, #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-2","allowed":true,"auditAnnotations":{"enforce-policy":"privileged:latest"}}}"#)
    }

    func testV1beta1IsAnsweredInV1beta1() {
        let controller = makeController(namespaces: namespaces(["enforce": "baseline"]))
        let allowed = answer(controller, review(apiVersion: "admission.k8s.io/v1beta1", uid: "b-1", object: plainPod()))
        XCTAssertEqual(allowed.bodyText, #"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","response":{"uid":"b-1","allowed":true,"auditAnnotations":{"enforce-policy":"baseline:latest"}}}"#)

        let denied = answer(controller, review(apiVersion: "admission.k8s.io/v1beta1", uid: "b-2", object: privilegedPod()))
        XCTAssertEqual(denied.document["apiVersion"], .string("admission.k8s.io/v1beta1"))
        XCTAssertEqual(denied.response["uid"], .string("b-2"))
        XCTAssertEqual(denied.allowed, false)
        XCTAssertEqual(denied.code, "403")
    }

    func testResponseFieldOrderFollowsGo() {
        let controller = makeController(namespaces: namespaces(["enforce": "baseline", "audit": "baseline"]))
        let result = answer(controller, review(object: privilegedPod()))
        let text = result.bodyText
        let uid = text.range(of: #""uid""#)!.lowerBound
        let allowed = text.range(of: #""allowed""#)!.lowerBound
        let status = text.range(of: #""status":{"#)!.lowerBound
        let annotations = text.range(of: #""auditAnnotations""#)!.lowerBound
        XCTAssertTrue(uid < allowed && allowed < status && status < annotations, text)
    }

    /// The response is written straight to bytes; it must be exactly the review built as a tree and serialized.
    func testResponseBytesEqualTheSerializedTree() {
        func tree(_ response: ReviewResponse, apiVersion: String, uid: String) -> [UInt8] {
            var object = JSONObject(["uid": .string(uid), "allowed": .bool(response.allowed)])
            if let status = response.status { object.members.append(.init(key: "status", value: status)) }
            if !response.auditAnnotations.isEmpty {
                let sorted = response.auditAnnotations.sorted.sorted { $0.key < $1.key }.map { JSONObject.Member(key: $0.key, value: .string($0.value)) }
                object.members.append(.init(key: "auditAnnotations", value: .object(JSONObject(sorted))))
            }
            if !response.warnings.isEmpty {
                object.members.append(.init(key: "warnings", value: .array(response.warnings.map { .string($0) })))
            }
            return JSONValue.object(JSONObject([
                "apiVersion": .string(apiVersion), "kind": .string("AdmissionReview"), "response": .object(object),
            ])).serialized()
        }
        var warned = ReviewResponse.allowed
        warned.warnings = ["would violate \"x\" <a&b>", "second\u{2028}line\n"]
        warned.auditAnnotations = AuditAnnotations(enforcePolicy: "", error: "1", exempt: "<&>")
        warned.auditAnnotations.auditViolations = "é\""
        var annotated = ReviewResponse.allowed
        annotated.auditAnnotations = AuditAnnotations(error: "e", exempt: "user")
        // A denial whose audit annotation ends as its message does: the body copies that part escaped.
        let afterVerb = " PodSecurity \"restricted:latest\": x (\u{2028}<&> \"a\")"
        var sharing = ReviewResponse.forbidden(group: "", resource: "pods", name: "we\"b", error: "violates" + afterVerb)
        sharing.auditAnnotations = AuditAnnotations(
            enforcePolicy: "restricted:latest", auditViolationsValue: sharing.failure!.message,
            auditViolationsSharedCount: afterVerb.utf8.count)
        XCTAssertEqual(sharing.auditAnnotations.auditViolations, "would violate" + afterVerb)
        let responses: [ReviewResponse] = [
            .allowed, .exempt("namespace"), warned, annotated, sharing,
            .forbidden(group: "", resource: "pods", name: "we<b>", error: "violates PodSecurity \"restricted:latest\": x"),
            .error(.internalError("failed to lookup namespace \"ns\""), cause: "boom"),
            .invalid(group: "", kind: "Namespace", name: "n", errors: []),
            .invalid(group: "apps", kind: "Deployment", name: "", errors: [FieldError(kind: .invalid, field: "f", badValue: "v", detail: "d")]),
            .badRequest("failed to decode pod"), .error(.badRequest("failed to decode object"), cause: "x"),
            .failure(message: "m", reason: "r", code: 429, details: ReviewStatus.Details(kind: "k")),
            // The reason "Forbidden" and the kind "pods" are written as literals: first or not, made at run time.
            .forbidden(group: "", resource: "pods", name: "", error: "e"),
            .forbidden(group: "x.io", resource: String("sdop".reversed()), name: "n", error: "e"),
            .failure(message: "m", reason: String("nneddibroF".reversed()), code: 403),
            .failure(message: "m", reason: "Forbidden", code: 403, details: ReviewStatus.Details(
                kind: "pods", causes: [ReviewStatus.Cause(reason: "r", message: "c", field: "f")])),
            .failure(message: "m", reason: "Forbidden2", code: 403, details: ReviewStatus.Details(name: "n", kind: "pod")),
        ]
        // The two versions a review names are written from literals; any other (only a test passes one) is escaped.
        let versions = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1", "admission.k8s.io/v1<2>", String("admission.k8s.io/v1".reversed().reversed())]
        for response in responses {
            for (apiVersion, uid) in zip(versions, ["u-1", "\"quoted\"\u{01}", "u", ""]) {
                XCTAssertEqual(response.review(apiVersion: apiVersion, uid: uid).body, tree(response, apiVersion: apiVersion, uid: uid))
            }
        }
    }

    func testStringsAreEscapedAsGoEscapesThem() {
        let controller = makeController(namespaces: namespaces(["enforce": "baseline"]))
        let result = answer(controller, review(name: "a<b>&c", object: privilegedPod("a<b>&c")))
        XCTAssertTrue(result.bodyText.contains(#"pods \"a\u003cb\u003e\u0026c\" is forbidden"#), result.bodyText)
    }

    func testRequestSubResourceWinsOverSubResource() {
        let controller = makeController(namespaces: namespaces(["enforce": "baseline"]))
        var request = JSONObject([
            "uid": .string("u"),
            "kind": json(#"{"group":"","version":"v1","kind":"Pod"}"#),
            "resource": json(#"{"group":"","version":"v1","resource":"pods"}"#),
            "subResource": .string("status"),
            "requestSubResource": .string(""),
        ])
        request["namespace"] = .string("team")
        request["operation"] = .string("UPDATE")
        request["object"] = privilegedPod("web", extraSpec: #","nodeName":"n""#)
        request["oldObject"] = plainPod()
        let body = JSONValue.object(JSONObject(["apiVersion": .string("admission.k8s.io/v1"), "kind": .string("AdmissionReview"), "request": .object(request)])).serialized()
        XCTAssertEqual(answer(controller, body).allowed, false, "PSA reads requestSubResource")
    }

    func testMetricEventLabels() {
        let event = evaluation("deny", "restricted", "v1.30", "enforce", operation: "update", subresource: "ephemeralcontainers")
        XCTAssertEqual(event.name, "pod_security_evaluations_total")
        XCTAssertEqual(event.labels.map(\.name), ["decision", "policy_level", "policy_version", "mode", "request_operation", "resource", "subresource"])
        XCTAssertEqual(event.labels.map(\.value), ["deny", "restricted", "v1.30", "enforce", "update", "pod", "ephemeralcontainers"])
        let exemption = AdmissionMetricEvent.exemption(operation: "create", resource: "controller", subresource: "")
        XCTAssertEqual(exemption.name, "pod_security_exemptions_total")
        XCTAssertEqual(exemption.labels.map(\.name), ["request_operation", "resource", "subresource"])
        let error = AdmissionMetricEvent.error(fatal: true, operation: "create", resource: "pod", subresource: "")
        XCTAssertEqual(error.name, "pod_security_errors_total")
        XCTAssertEqual(error.labels.map(\.name), ["fatal", "request_operation", "resource", "subresource"])
        XCTAssertEqual(error.labels.first?.value, "true")
        XCTAssertEqual(RequestState.versionLabel(LevelVersion(level: .privileged, version: Version(major: 1, minor: 20))), "latest")
        XCTAssertEqual(RequestState.versionLabel(LevelVersion(level: .baseline, version: Version(major: 1, minor: 20))), "v1.20")
        XCTAssertEqual(RequestState.versionLabel(LevelVersion(level: .baseline, version: Version(major: 1, minor: 500))), "future")
    }
}
