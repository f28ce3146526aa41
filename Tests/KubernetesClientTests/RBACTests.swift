import Foundation
import Manifests
import StrictJSON
import XCTest
@testable import KubernetesClient

/// deploy/rbac.yaml grants exactly what the client does: every request the webhook's client makes (the
/// namespace cache's list and watch, a live GET, pod lists) is mapped to its RBAC verb and resource, and the
/// set must equal the ClusterRole's rules, no more and no less.
final class RBACTests: XCTestCase {
    func testDeployRBACGrantsExactlyWhatTheClientUses() throws {
        let standIn = try StandIn.start()
        defer { standIn.server.stop() }
        standIn.server.setNamespace("a", labels: [:])
        standIn.server.setPods(namespace: "a", count: 3)
        let cache = NamespaceCache(client: standIn.client)
        cache.start()
        waitUntil("synced") { cache.isSynced }
        waitUntil("watching") { !standIn.server.watchRequests().isEmpty }
        standIn.server.setNamespace("late", labels: [:])
        _ = try standIn.client.getNamespace("a")
        _ = try standIn.client.listPods(namespace: "a", limit: 10, continueToken: nil, deadline: .now + .seconds(5))
        cache.stop()

        var used = Set<String>()
        for request in standIn.server.recordedRequests {
            XCTAssertEqual(request.method, "GET", "the client only reads")
            let segments = request.path.split(separator: "/").map(String.init)  // api, v1, namespaces[, name[, pods]]
            switch segments.count {
            case 3 where segments[2] == "namespaces":
                used.insert(request.query["watch"] == "1" || request.query["watch"] == "true" ? "namespaces:watch" : "namespaces:list")
            case 4 where segments[2] == "namespaces": used.insert("namespaces:get")
            case 5 where segments[4] == "pods": used.insert("pods:list")
            default: XCTFail("unexpected request \(request.target)")
            }
        }

        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/rbac.yaml")
        let objects = try ManifestReader.objects(in: Array(try Data(contentsOf: url)), sourceName: url.path)
        let role = try XCTUnwrap(objects.first { $0.value["kind"] == .string("ClusterRole") }?.value)
        var granted = Set<String>()
        for rule in role["rules"]?.arrayValue ?? [] {
            XCTAssertEqual(rule["apiGroups"], .array([.string("")]), "core group only")
            for resource in rule["resources"]?.arrayValue ?? [] {
                for verb in rule["verbs"]?.arrayValue ?? [] {
                    granted.insert("\(resource.stringValue ?? "?"):\(verb.stringValue ?? "?")")
                }
            }
        }
        XCTAssertEqual(granted, used)
        XCTAssertEqual(granted, ["namespaces:get", "namespaces:list", "namespaces:watch", "pods:list"])
    }
}
