import Foundation
import AdmissionControl
import StrictJSON
import XCTest

/// Whatever arrives, the controller answers: no crash, an HTTP status of 200 or 400, a JSON body, and for a
/// 200 a response carrying the request's uid. Mutations of real reviews (pod, workload, namespace, v1beta1).
final class AdmissionFuzzTests: XCTestCase {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func testMutatedReviewsAlwaysGetAnAnswer() throws {
        let bench = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("bench")
        let seeds = try ["review-pod-restricted-allowed.json", "review-pod-restricted-denied.json", "review-deployment.json",
                         "review-namespace-update.json", "review-v1beta1-pod.json", "review-pod-ephemeralcontainers.json"]
            .map { Array(try Data(contentsOf: bench.appendingPathComponent($0))) }
        let configuration = try AdmissionConfiguration(decoding: JSONParser.parse(#"""
        {"apiVersion":"pod-security.admission.config.k8s.io/v1","kind":"PodSecurityConfiguration",
         "defaults":{"enforce":"baseline","audit":"restricted","warn":"restricted"},"exemptions":{"usernames":["admin"]}}
        """#))
        let controller = AdmissionController(configuration: configuration, namespaces: DefaultsOnlyNamespaces(), pods: NoPods())
        let tokens: [[UInt8]] = ["null", "true", "1", "-0.5e3", "\"\"", "\"x\\u0000\"", "[]", "{}", "[[[[", "}", ",", ":",
                                 "\"Pod\"", "\"UPDATE\"", "\"pods\"", "\"ephemeralcontainers\"", "\u{FF}", "\u{0}"].map { Array($0.utf8) }
        var rng = SplitMix(state: 99)
        var statuses: [Int: Int] = [:]
        for iteration in 0..<3_000 {
            var bytes = seeds[iteration % seeds.count]
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let index = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes.replaceSubrange(index..<min(bytes.count, index + Int.random(in: 1...8, using: &rng)),
                                              with: tokens.randomElement(using: &rng)!)
                case 1: bytes.remove(at: index)
                default: bytes.insert(contentsOf: tokens.randomElement(using: &rng)!, at: index)
                }
                if bytes.isEmpty { bytes = [0x20] }
            }
            let outcome = controller.handle(reviewBody: bytes, deadline: .now + .seconds(5))
            statuses[outcome.httpStatus, default: 0] += 1
            XCTAssertTrue(outcome.httpStatus == 200 || outcome.httpStatus == 400, "status \(outcome.httpStatus)")
            let body = try JSONParser.parse(outcome.body)
            if outcome.httpStatus == 200 {
                XCTAssertNotNil(body["response"]?["uid"]?.stringValue)
                XCTAssertNotNil(body["response"]?["allowed"]?.boolValue)
            } else {
                XCTAssertEqual(body["kind"], .string("Status"))
                XCTAssertFalse(body["message"]?.stringValue?.isEmpty ?? true)
            }
        }
        // Both answers must have been exercised.
        XCTAssertGreaterThan(statuses[200, default: 0], 100)
        XCTAssertGreaterThan(statuses[400, default: 0], 100)
    }
}
