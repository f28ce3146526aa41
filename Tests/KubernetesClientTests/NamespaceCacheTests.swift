import Foundation
import StrictJSON
import XCTest
@testable import KubernetesClient

final class NamespaceCacheTests: XCTestCase {
    private func startCache(_ standIn: StandIn) -> (NamespaceCache, LogLines) {
        let log = LogLines()
        let cache = NamespaceCache(client: standIn.client, log: { log.append($0) })
        cache.start()
        addTeardownBlock { cache.stop(); standIn.server.stop() }
        return (cache, log)
    }

    private func cachedLabels(_ cache: NamespaceCache, _ name: String) -> [String: String]? {
        try? cache.labels(forNamespace: name)
    }

    func testListThenLabelChangesReachTheCache() throws {
        let standIn = try StandIn.start()
        standIn.server.listPageSize = 2  // the list comes in pages, joined by continue tokens
        for index in 0..<5 { standIn.server.setNamespace("ns-\(index)", labels: ["index": "\(index)"]) }
        let (cache, _) = startCache(standIn)
        waitUntil("synced") { cache.isSynced }
        XCTAssertEqual(cache.count, 5)
        XCTAssertEqual(try cache.labels(forNamespace: "ns-3"), ["index": "3"])
        let lists = standIn.server.recordedRequests.filter { $0.path == "/api/v1/namespaces" && $0.query["watch"] == nil }
        XCTAssertEqual(lists.count, 3)
        XCTAssertEqual(lists.last?.query["continue"], "4")

        standIn.server.setNamespace("ns-1", labels: ["pod-security.kubernetes.io/enforce": "restricted"])
        waitUntil("label change in cache") { cache.labelsIfCached("ns-1") == ["pod-security.kubernetes.io/enforce": "restricted"] }
        standIn.server.setNamespace("fresh", labels: ["a": "b"])
        waitUntil("added namespace in cache") { cache.labelsIfCached("fresh") == ["a": "b"] }
        standIn.server.deleteNamespace("ns-2")
        waitUntil("deleted namespace gone from cache") { cache.labelsIfCached("ns-2") == nil && cache.count == 5 }

        let watch = try XCTUnwrap(standIn.server.watchRequests().first)
        XCTAssertEqual(watch.query["allowWatchBookmarks"], "true")
        XCTAssertNotNil(Int(watch.query["timeoutSeconds"] ?? ""))
        XCTAssertEqual(watch.headers["accept"], "application/json")
    }

    func testDroppedWatchResumesFromTheLastResourceVersion() throws {
        let standIn = try StandIn.start()
        standIn.server.setNamespace("a", labels: [:])
        standIn.server.scriptWatches([.dropAfter(events: 2)])
        let (cache, _) = startCache(standIn)
        waitUntil("synced") { cache.isSynced }
        standIn.server.setNamespace("b", labels: ["x": "1"])
        standIn.server.setNamespace("c", labels: ["x": "2"])
        let lastVersion = standIn.server.currentResourceVersion
        waitUntil("second watch") { standIn.server.watchRequests().count >= 2 }
        XCTAssertEqual(standIn.server.watchRequests()[1].query["resourceVersion"], String(lastVersion))
        standIn.server.setNamespace("d", labels: ["x": "3"])
        waitUntil("event after resume") { cache.labelsIfCached("d") == ["x": "3"] }
        XCTAssertEqual(cache.labelsIfCached("c"), ["x": "2"])
        let lists = standIn.server.recordedRequests.filter { $0.path == "/api/v1/namespaces" && $0.query["watch"] == nil }
        XCTAssertEqual(lists.count, 1, "a dropped watch resumes without relisting")
    }

    func testBookmarkAdvancesTheResumePoint() throws {
        let standIn = try StandIn.start()
        standIn.server.setNamespace("a", labels: [:])
        let (cache, _) = startCache(standIn)
        waitUntil("synced") { cache.isSynced }
        let bookmark = standIn.server.bookmark()
        waitUntil("bookmark seen") { cache.resourceVersion == String(bookmark) }
        standIn.server.dropWatches()
        waitUntil("rewatch") { standIn.server.watchRequests().count >= 2 }
        XCTAssertEqual(standIn.server.watchRequests()[1].query["resourceVersion"], String(bookmark))
    }

    func testGoneAnswerRelists() throws {
        let standIn = try StandIn.start()
        standIn.server.setNamespace("a", labels: ["v": "1"])
        let (cache, log) = startCache(standIn)
        waitUntil("synced") { cache.isSynced }
        waitUntil("first watch") { standIn.server.watchRequests().count == 1 }
        // History compacted while the watch is down: the resume gets 410 and the cache lists again.
        standIn.server.pauseWatchEvents = true
        standIn.server.setNamespace("a", labels: ["v": "2"])
        standIn.server.compact()
        standIn.server.dropWatches()
        standIn.server.pauseWatchEvents = false
        waitUntil("relisted") {
            standIn.server.recordedRequests.filter { $0.path == "/api/v1/namespaces" && $0.query["watch"] == nil }.count >= 2
        }
        waitUntil("relisted labels") { cache.labelsIfCached("a") == ["v": "2"] }
        XCTAssertTrue(log.all.contains { $0.contains("too old") }, "\(log.all)")
        standIn.server.setNamespace("after", labels: [:])
        waitUntil("watching again") { cache.labelsIfCached("after") == [:] }
    }

    func testGoneErrorEventRelists() throws {
        let standIn = try StandIn.start()
        standIn.server.setNamespace("a", labels: [:])
        standIn.server.scriptWatches([.errorEventGone])
        let (cache, _) = startCache(standIn)
        waitUntil("relisted after ERROR 410") {
            standIn.server.recordedRequests.filter { $0.path == "/api/v1/namespaces" && $0.query["watch"] == nil }.count >= 2
        }
        standIn.server.setNamespace("b", labels: ["k": "v"])
        waitUntil("watching again") { cache.labelsIfCached("b") == ["k": "v"] }
    }

    func testMalformedWatchEventDoesNotKillTheCache() throws {
        let standIn = try StandIn.start()
        standIn.server.setNamespace("a", labels: [:])
        standIn.server.scriptWatches([.malformedEvent])
        let (cache, log) = startCache(standIn)
        waitUntil("relisted after a malformed event") {
            standIn.server.recordedRequests.filter { $0.path == "/api/v1/namespaces" && $0.query["watch"] == nil }.count >= 2
        }
        XCTAssertTrue(log.all.contains { $0.contains("InvalidWatchEvent") }, "\(log.all)")
        standIn.server.setNamespace("b", labels: ["k": "v"])
        waitUntil("still current") { cache.labelsIfCached("b") == ["k": "v"] }
    }

    func testNamespaceCreatedAfterStartupIsFoundByALiveGet() throws {
        let standIn = try StandIn.start()
        let (cache, _) = startCache(standIn)
        waitUntil("synced") { cache.isSynced }
        standIn.server.pauseWatchEvents = true  // the watch has not delivered it yet
        standIn.server.setNamespace("late", labels: ["pod-security.kubernetes.io/enforce": "baseline"])
        XCTAssertEqual(try cache.labels(forNamespace: "late"), ["pod-security.kubernetes.io/enforce": "baseline"])
        XCTAssertTrue(standIn.server.recordedRequests.contains { $0.path == "/api/v1/namespaces/late" })
        XCTAssertEqual(cache.labelsIfCached("late"), ["pod-security.kubernetes.io/enforce": "baseline"], "the GET result is cached")
    }

    func testMissingNamespaceIsNotFound() throws {
        let standIn = try StandIn.start()
        let (cache, _) = startCache(standIn)
        waitUntil("synced") { cache.isSynced }
        XCTAssertThrowsError(try cache.labels(forNamespace: "missing")) { error in
            let apiError = error as? KubernetesAPIError
            XCTAssertEqual(apiError?.statusCode, 404)
            XCTAssertEqual(apiError?.reason, "NotFound")
            XCTAssertEqual(apiError?.message, "namespaces \"missing\" not found")
            XCTAssertTrue(apiError?.isNotFound == true)
        }
    }

    func testStopClosesTheWatch() throws {
        let standIn = try StandIn.start()
        defer { standIn.server.stop() }
        let cache = NamespaceCache(client: standIn.client)
        cache.start()
        waitUntil("watching") { standIn.server.openWatchCount == 1 }
        cache.stop()
        waitUntil("watch closed") { standIn.server.openWatchCount == 0 }
        XCTAssertTrue(cache.isSynced, "what was synced stays usable")
    }

    func testUnreachableAPIServerIsAnError() throws {
        let standIn = try StandIn.start()
        standIn.server.stop()
        let cache = NamespaceCache(client: standIn.client)
        XCTAssertThrowsError(try cache.labels(forNamespace: "any")) { error in
            let apiError = error as? KubernetesAPIError
            XCTAssertNil(apiError?.statusCode)
            XCTAssertEqual(apiError?.reason, "ConnectionFailed")
        }
        XCTAssertFalse(cache.isSynced)
    }
}

extension NamespaceCache {
    /// The cached labels without a live GET on a miss.
    func labelsIfCached(_ name: String) -> [String: String]? { cachedLabels(name) }
}
