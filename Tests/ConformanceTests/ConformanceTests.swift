import Foundation
import PodSecurity
import StrictJSON
import XCTest

/// Every upstream PSA fixture, read in place from `../shared/conformance/psa-fixtures.jsonl` (or the file
/// `PSA_FIXTURES` names): the decision must agree, and a denial's reasons must contain the fixture's
/// reason substring.
final class ConformanceTests: XCTestCase {
    static let expectedFixtureCount = 4_537

    static var fixturesURL: URL {
        if let override = ProcessInfo.processInfo.environment["PSA_FIXTURES"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        // Tests/ConformanceTests/ConformanceTests.swift -> package root -> ../shared/conformance
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance/psa-fixtures.jsonl")
    }

    func testEveryUpstreamFixtureAgrees() throws {
        let url = Self.fixturesURL
        guard let data = FileManager.default.contents(atPath: url.path) else {
            XCTFail("conformance fixtures missing at \(url.path): the conformance test reads them in place")
            return
        }
        var checked = 0
        var failures: [String] = []
        var countsByExpectation: [String: Int] = [:]
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            let fixture = try JSONParser.parse(Array(line))
            let level = try XCTUnwrap(fixture["level"]?.stringValue.flatMap(Level.init(parsing:)))
            let version = try XCTUnwrap(fixture["version"]?.stringValue.flatMap(Version.init(parsing:)))
            let expectation = try XCTUnwrap(fixture["expect"]?.stringValue)
            let substring = fixture["reasonSubstring"]?.stringValue ?? ""
            let name = "\(level):\(version) \(fixture["check"]?.stringValue ?? "?")/\(fixture["case"]?.stringValue ?? "?") \(expectation)"
            countsByExpectation["\(level) \(expectation)", default: 0] += 1
            checked += 1

            let pod: Pod
            do {
                pod = try Pod(decoding: try XCTUnwrap(fixture["pod"]))
            } catch {
                failures.append("\(name): pod did not decode: \(error)")
                continue
            }
            let evaluation = PodSecurityEvaluator.evaluate(pod, at: LevelVersion(level: level, version: version))
            switch expectation {
            case "allow":
                if !evaluation.allowed { failures.append("\(name): denied: \(evaluation.forbiddenReason)") }
            case "deny":
                if evaluation.allowed {
                    failures.append("\(name): allowed")
                } else if !substring.isEmpty && !evaluation.forbiddenReason.contains(substring) {
                    failures.append("\(name): reasons \"\(evaluation.forbiddenReason)\" lack \"\(substring)\"")
                }
            default:
                failures.append("\(name): unknown expectation")
            }
        }
        XCTAssertEqual(checked, Self.expectedFixtureCount, "fixture count")
        XCTAssertEqual(countsByExpectation["baseline allow"], 433)
        XCTAssertEqual(countsByExpectation["baseline deny"], 1_122)
        XCTAssertEqual(countsByExpectation["restricted allow"], 618)
        XCTAssertEqual(countsByExpectation["restricted deny"], 2_364)
        XCTAssertTrue(failures.isEmpty, "\(failures.count) of \(checked) fixtures disagree:\n" + failures.prefix(40).joined(separator: "\n"))
        print("conformance: \(checked - failures.count) of \(checked) fixtures agree")
    }
}
