import Foundation
import AdmissionControl
import HTTPServer
@testable import WebhookApp
import XCTest

final class MetricsRegistryTests: XCTestCase {
    func testConcurrentUpdatesAddUpAcrossShards() {
        let registry = MetricsRegistry(families: [
            .init(name: "c_total", help: "a counter", kind: .counter),
            .init(name: "h_seconds", help: "a histogram", kind: .histogram, buckets: [0.001, 0.01]),
        ])
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in 0..<1_000 {
                registry.record([
                    .increment("c_total", labels: [("mode", index % 2 == 0 ? "enforce" : "warn")]),
                    .observe("h_seconds", value: worker % 2 == 0 ? 0.0005 : 0.005, labels: [("kind", "Pod")]),
                    .increment("undeclared_total", labels: []),
                ])
            }
        }
        XCTAssertEqual(registry.counterValue("c_total", labels: [("mode", "enforce")]), 4_000)
        let text = registry.render()
        XCTAssertTrue(text.contains("# TYPE c_total counter\nc_total{mode=\"enforce\"} 4000\nc_total{mode=\"warn\"} 4000\n"), text)
        XCTAssertTrue(text.contains("h_seconds_bucket{kind=\"Pod\",le=\"0.001\"} 4000\n"), text)
        XCTAssertTrue(text.contains("h_seconds_bucket{kind=\"Pod\",le=\"0.01\"} 8000\n"), text)
        XCTAssertTrue(text.contains("h_seconds_bucket{kind=\"Pod\",le=\"+Inf\"} 8000\n"), text)
        XCTAssertTrue(text.contains("h_seconds_count{kind=\"Pod\"} 8000\n"), text)
        XCTAssertFalse(text.contains("undeclared"))
    }

    func testLabelValuesAreEscaped() {
        let registry = MetricsRegistry(families: [.init(name: "c_total", help: "h", kind: .counter)])
        registry.increment("c_total", labels: [("v", "a\"b\\c\nd")])
        XCTAssertTrue(registry.render().contains(#"c_total{v="a\"b\\c\nd"} 1"#))
    }
}

final class ContentTypeTests: XCTestCase {
    /// The check on a header's bytes (what a review is tested with) answers as the check on the value's
    /// string did, invalid UTF-8 (repaired to U+FFFD in the string) included.
    func testBytesAnswerAsTheString() {
        let pieces: [[UInt8]] = [Array("application/json".utf8), Array("APPLICATION/json".utf8), [0x20], [0x09], [0x3B],
                                 Array("charset=utf-8".utf8), [0x80], [0xFF], [0xC3, 0x28], [0xC2, 0xA0], [0xE9], Array("x".utf8)]
        var values: [[UInt8]] = [[]]
        for first in pieces {
            values.append(first)
            for second in pieces {
                values.append(first + second)
                for third in pieces { values.append(first + second + third) }
            }
        }
        for value in values {
            let string = String(decoding: value, as: UTF8.self)
            let fromBytes = value.withUnsafeBufferPointer { WebhookHandler.isJSON($0) }
            var reference = string  // the previous check: whole compare, then the letter-case scan on the string
            let expected = string == "application/json" || reference.withUTF8 { bytes in
                var index = 0
                while index < bytes.count && (bytes[index] == 0x20 || bytes[index] == 0x09) { index += 1 }
                for wanted in "application/json".utf8 {
                    guard index < bytes.count else { return false }
                    let byte = bytes[index]
                    guard (byte >= 0x41 && byte <= 0x5A ? byte + 32 : byte) == wanted else { return false }
                    index += 1
                }
                while index < bytes.count && (bytes[index] == 0x20 || bytes[index] == 0x09) { index += 1 }
                return index == bytes.count || bytes[index] == 0x3B
            }
            XCTAssertEqual(fromBytes, expected, "\(value)")
            XCTAssertEqual(WebhookHandler.isJSON(string), expected, "\(value)")
        }
    }

    func testJSONMediaTypeWithParametersAndCase() {
        for accepted in ["application/json", "Application/JSON", " application/json ; charset=utf-8", "application/json;v=1",
                         "\tapplication/json\t", "APPLICATION/JSON;"] {
            XCTAssertTrue(WebhookHandler.isJSON(accepted), accepted)
        }
        for refused in ["", "text/plain", "application/jsonx", "application/json-patch+json", "application\u{0F}json", "application/jso",
                        "application/json x", " ", "applicationXjson", "application/jsoN\u{301}", "é", "application/json\u{A0}"] {
            XCTAssertFalse(WebhookHandler.isJSON(refused), refused)
        }
    }

    /// Found as `HTTPHeaders` finds it: the first field so named, in any letter case.
    func testContentTypeFieldLookup() {
        func request(_ fields: [(name: String, value: String)]) -> HTTPRequest {
            HTTPRequest(method: "POST", target: "/validate", headers: HTTPHeaders(fields))
        }
        XCTAssertEqual(request([("Host", "x"), ("CONTENT-type", "a"), ("Content-Type", "b")]).headers["Content-Type"], "a")
        XCTAssertNil(request([("Content-Typf", "a"), ("Content_Type", "b"), ("Content-Types", "c")]).headers["Content-Type"])
        XCTAssertNil(request([]).headers["Content-Type"])
    }
}

final class WebhookMetricsExpositionTests: XCTestCase {
    /// The whole exposition after a fixed set of records, pinned byte for byte (family order, series order,
    /// label order, escaping, bucket bounds, sums).
    func testExpositionIsPinned() {
        let metrics = WebhookMetrics()
        let allow = AdmissionMetricEvent.evaluation(decision: "allow", policyLevel: "restricted", policyVersion: "latest", mode: "enforce",
                                                    operation: "create", resource: "pod", subresource: "")
        let odd = AdmissionMetricEvent.evaluation(decision: "deny", policyLevel: "baseline", policyVersion: "v1.30", mode: "warn",
                                                  operation: "update", resource: "controller", subresource: "a\"b\\c\nd")
        metrics.record([allow, odd], status: 200, kind: "Pod", seconds: 0.00005)
        metrics.record([allow], status: 200, kind: "Pod", seconds: 0.003)
        metrics.record([.exemption(operation: "create", resource: "pod", subresource: "ephemeralcontainers")], status: 200, kind: "Pod", seconds: 2)
        metrics.record([.error(fatal: true, operation: "create", resource: "pod", subresource: ""),
                        .error(fatal: false, operation: "create", resource: "pod", subresource: "")], status: 500, kind: "", seconds: 100)
        metrics.record([], status: 400, kind: "", seconds: 0.25)
        XCTAssertEqual(metrics.render(), Self.expected)
    }

    /// Label values partly come from requests, so the cache stops growing at its capacity; series past it
    /// are still counted.
    func testSeriesCacheIsBoundedAndOverflowStillCounts() {
        let metrics = WebhookMetrics()
        let distinct = WebhookMetrics.seriesCacheCapacity + 50
        for round in 0..<2 {
            for index in 0..<distinct {
                metrics.record([.exemption(operation: "create", resource: "pod", subresource: "sub\(index)")],
                               status: 200 + round, kind: "Pod", seconds: 0.001)
            }
        }
        XCTAssertLessThanOrEqual(metrics.cachedSeriesCount, WebhookMetrics.seriesCacheCapacity, "one thread fills one shard")
        for index in [0, WebhookMetrics.seriesCacheCapacity - 1, distinct - 1] {
            XCTAssertEqual(metrics.registry.counterValue("pod_security_exemptions_total", labels: [
                ("request_operation", "create"), ("resource", "pod"), ("subresource", "sub\(index)"),
            ]), 2, "subresource sub\(index)")
        }
        let text = metrics.render()
        XCTAssertTrue(text.contains("pod_security_webhook_requests_total{code=\"200\"} \(distinct)\n"), text)
        XCTAssertTrue(text.contains("pod_security_webhook_request_duration_seconds_count{kind=\"Pod\"} \(2 * distinct)\n"), text)
    }

    /// A series registered (here by a lookup) but never counted is not shown, as before registration existed;
    /// one counted by 0 is.
    func testSeriesShowOnceCounted() {
        let registry = MetricsRegistry(families: [.init(name: "c_total", help: "h", kind: .counter)])
        XCTAssertEqual(registry.counterValue("c_total", labels: [("v", "looked-up")]), 0)
        registry.increment("c_total", labels: [("v", "zero")], by: 0)
        XCTAssertEqual(registry.render(), "# HELP c_total h\n# TYPE c_total counter\nc_total{v=\"zero\"} 0\n")
    }

    static let expected = #"""
        # HELP pod_security_evaluations_total Number of policy evaluations that occurred, not counting ignored or exempt requests.
        # TYPE pod_security_evaluations_total counter
        pod_security_evaluations_total{decision="allow",policy_level="restricted",policy_version="latest",mode="enforce",request_operation="create",resource="pod",subresource=""} 2
        pod_security_evaluations_total{decision="deny",policy_level="baseline",policy_version="v1.30",mode="warn",request_operation="update",resource="controller",subresource="a\"b\\c\nd"} 1
        # HELP pod_security_exemptions_total Number of exempt requests, not counting ignored or out of scope requests.
        # TYPE pod_security_exemptions_total counter
        pod_security_exemptions_total{request_operation="create",resource="pod",subresource="ephemeralcontainers"} 1
        # HELP pod_security_errors_total Number of errors preventing normal evaluation. Non-fatal errors may result in the latest restricted profile being used for evaluation.
        # TYPE pod_security_errors_total counter
        pod_security_errors_total{fatal="false",request_operation="create",resource="pod",subresource=""} 1
        pod_security_errors_total{fatal="true",request_operation="create",resource="pod",subresource=""} 1
        # HELP pod_security_webhook_requests_total Admission requests answered, by HTTP status code.
        # TYPE pod_security_webhook_requests_total counter
        pod_security_webhook_requests_total{code="200"} 3
        pod_security_webhook_requests_total{code="400"} 1
        pod_security_webhook_requests_total{code="500"} 1
        # HELP pod_security_webhook_request_duration_seconds Time from a complete request body to its response, in seconds, by kind of request.
        # TYPE pod_security_webhook_request_duration_seconds histogram
        pod_security_webhook_request_duration_seconds_bucket{kind="Pod",le="0.0001"} 1
        pod_security_webhook_request_duration_seconds_bucket{kind="Pod",le="0.00025"} 1
        pod_security_webhook_request_duration_seconds_bucket{kind="Pod",le="0.0005"} 1
        pod_security_webhook_request_duration_seconds_bucket{kind="Pod",le="0.001"} 1
        pod_security_webhook_request_duration_seconds_bucket{kind="Pod",le="0.0025"} 1
        pod_security_webhook_request_duration_seconds_bucket{kind="Pod",le="0.005"} 2
        pod_security_webhook_request_duration_seconds_bucket{kind="Pod",le="0.01"} 2
        pod_security_webhook_request_duration_seconds_bucket{kind="Pod",le="0.025"} 2
        pod_security_webhook_request_duration_seconds_bucket{kind="Pod",le="0.05"} 2
        pod_security_webhook_request_duration_seconds_bucket{kind="Pod",le="0.1"} 2
        pod_security_webhook_request_duration_seconds_bucket{kind="Pod",le="0.25"} 2
        pod_security_webhook_request_duration_seconds_bucket{kind="Pod",le="0.5"} 2
        pod_security_webhook_request_duration_seconds_bucket{kind="Pod",le="1"} 2
        pod_security_webhook_request_duration_seconds_bucket{kind="Pod",le="2.5"} 3
        pod_security_webhook_request_duration_seconds_bucket{kind="Pod",le="5"} 3
        pod_security_webhook_request_duration_seconds_bucket{kind="Pod",le="10"} 3
        pod_security_webhook_request_duration_seconds_bucket{kind="Pod",le="+Inf"} 3
        pod_security_webhook_request_duration_seconds_sum{kind="Pod"} 2.00305
        pod_security_webhook_request_duration_seconds_count{kind="Pod"} 3
        pod_security_webhook_request_duration_seconds_bucket{kind="unknown",le="0.0001"} 0
        pod_security_webhook_request_duration_seconds_bucket{kind="unknown",le="0.00025"} 0
        pod_security_webhook_request_duration_seconds_bucket{kind="unknown",le="0.0005"} 0
        pod_security_webhook_request_duration_seconds_bucket{kind="unknown",le="0.001"} 0
        pod_security_webhook_request_duration_seconds_bucket{kind="unknown",le="0.0025"} 0
        pod_security_webhook_request_duration_seconds_bucket{kind="unknown",le="0.005"} 0
        pod_security_webhook_request_duration_seconds_bucket{kind="unknown",le="0.01"} 0
        pod_security_webhook_request_duration_seconds_bucket{kind="unknown",le="0.025"} 0
        pod_security_webhook_request_duration_seconds_bucket{kind="unknown",le="0.05"} 0
        pod_security_webhook_request_duration_seconds_bucket{kind="unknown",le="0.1"} 0
        pod_security_webhook_request_duration_seconds_bucket{kind="unknown",le="0.25"} 1
        pod_security_webhook_request_duration_seconds_bucket{kind="unknown",le="0.5"} 1
        pod_security_webhook_request_duration_seconds_bucket{kind="unknown",le="1"} 1
        pod_security_webhook_request_duration_seconds_bucket{kind="unknown",le="2.5"} 1
        pod_security_webhook_request_duration_seconds_bucket{kind="unknown",le="5"} 1
        pod_security_webhook_request_duration_seconds_bucket{kind="unknown",le="10"} 1
        pod_security_webhook_request_duration_seconds_bucket{kind="unknown",le="+Inf"} 2
        pod_security_webhook_request_duration_seconds_sum{kind="unknown"} 100.25
        pod_security_webhook_request_duration_seconds_count{kind="unknown"} 2

        """#
}
