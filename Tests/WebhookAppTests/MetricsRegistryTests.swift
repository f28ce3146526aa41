import Foundation
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
    func testJSONMediaTypeWithParametersAndCase() {
        for accepted in ["application/json", "Application/JSON", " application/json ; charset=utf-8", "application/json;v=1"] {
            XCTAssertTrue(WebhookHandler.isJSON(accepted), accepted)
        }
        for refused in ["", "text/plain", "application/jsonx", "application/json-patch+json", "application\u{0F}json", "application/jso"] {
            XCTAssertFalse(WebhookHandler.isJSON(refused), refused)
        }
    }
}
