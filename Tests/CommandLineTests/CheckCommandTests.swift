import Foundation
import XCTest

/// `check` as a user runs it: a real process, real files, stdin, exit codes.
final class CheckCommandTests: XCTestCase {
    let restrictedMessage = #"violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#

    let deployment = """
        # a typical Deployment that passes baseline but not restricted
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: team-a
        spec:
          replicas: 2
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: app
                image: nginx:1.27
                ports:
                - containerPort: 80
        """

    let compliantPod = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: ok
        spec:
          securityContext:
            runAsNonRoot: true
            seccompProfile:
              type: RuntimeDefault
          containers:
          - name: app
            image: registry.k8s.io/pause
            securityContext:
              allowPrivilegeEscalation: false
              capabilities:
                drop: [ALL]
        """

    func json(_ line: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    func testDeploymentInYAMLFailsRestrictedWithPSAMessage() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("deploy.yaml", deployment)
        let result = try WebhookBinary.run(["check", "-o", "json", file])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertEqual(result.stdoutLines.count, 1)
        let record = try json(result.stdoutLines[0])
        XCTAssertEqual(record["file"] as? String, file)
        XCTAssertEqual(record["index"] as? Int, 0)
        XCTAssertEqual(record["kind"] as? String, "Deployment")
        XCTAssertEqual(record["namespace"] as? String, "team-a")
        XCTAssertEqual(record["name"] as? String, "web")
        XCTAssertEqual(record["level"] as? String, "restricted")
        XCTAssertEqual(record["version"] as? String, "latest")
        XCTAssertEqual(record["allowed"] as? Bool, false)
        XCTAssertEqual(record["message"] as? String, restrictedMessage)
        let violations = try XCTUnwrap(record["violations"] as? [[String: String]])
        XCTAssertEqual(violations.map { $0["check"] ?? "" },
                       ["allowPrivilegeEscalation", "capabilities_restricted", "runAsNonRoot", "seccompProfile_restricted"])
        XCTAssertEqual(violations[0]["reason"], "allowPrivilegeEscalation != false")
        XCTAssertEqual(violations[0]["detail"], #"container "app" must set securityContext.allowPrivilegeEscalation=false"#)

        // The same Deployment passes baseline: exit 0.
        let baseline = try WebhookBinary.run(["check", "--level", "baseline", file])
        XCTAssertEqual(baseline.status, 0, baseline.stdout + baseline.stderr)
        XCTAssertTrue(baseline.stdout.contains("PASS"), baseline.stdout)
    }

    /// The webhook guards itself: its own Deployment in deploy/ meets restricted:latest.
    func testOwnDeploymentPassesRestricted() throws {
        let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/deployment.yaml").path
        let result = try WebhookBinary.run(["check", "-o", "json", deploy])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertEqual(result.stdoutLines.count, 1)
        XCTAssertTrue(result.stdout.contains(#""kind":"Deployment""#) && result.stdout.contains(#""allowed":true"#), result.stdout)
    }

    func testVersionAsAskedAppearsInTheMessage() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("deploy.yaml", deployment)
        let result = try WebhookBinary.run(["check", "--version", "v1.30", "-o", "json", file])
        XCTAssertEqual(result.status, 1)
        let record = try json(result.stdoutLines[0])
        XCTAssertEqual(record["version"] as? String, "v1.30")
        XCTAssertEqual(record["message"] as? String,
                       restrictedMessage.replacingOccurrences(of: "restricted:latest", with: "restricted:v1.30"))
    }

    func testMultiDocumentFileInInputOrder() throws {
        let directory = try TemporaryDirectory()
        let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80}]\n"
        let file = try directory.write("all.yaml", "---\n" + deployment + "\n---\n" + service + "---\n# only a comment\n---\n" + compliantPod + "\n")
        let result = try WebhookBinary.run(["check", "-o", "json", file])
        XCTAssertEqual(result.status, 1, result.stderr)
        let records = try result.stdoutLines.map(json)
        XCTAssertEqual(records.map { $0["kind"] as? String }, ["Deployment", "Pod"])
        XCTAssertEqual(records.map { $0["allowed"] as? Bool }, [false, true])
        XCTAssertEqual(records[1]["message"] as? String, "")
        XCTAssertEqual((records[1]["violations"] as? [Any])?.count, 0)
        XCTAssertEqual(records.map { $0["index"] as? Int }, [0, 2])
    }

    func testListItemsInOrder() throws {
        let directory = try TemporaryDirectory()
        let list = """
            {"apiVersion":"v1","kind":"List","items":[
              {"apiVersion":"v1","kind":"Pod","metadata":{"name":"first"},"spec":{"containers":[{"name":"app","image":"x","securityContext":{"privileged":true}}]}},
              {"apiVersion":"v1","kind":"Pod","metadata":{"name":"second"},"spec":{"hostNetwork":true,"containers":[{"name":"app","image":"x"}]}}
            ]}
            """
        let file = try directory.write("list.json", list)
        let result = try WebhookBinary.run(["check", "--level", "baseline", "-o", "json", file])
        XCTAssertEqual(result.status, 1, result.stderr)
        let records = try result.stdoutLines.map(json)
        XCTAssertEqual(records.map { $0["name"] as? String }, ["first", "second"])
        XCTAssertEqual(records[0]["message"] as? String, #"violates PodSecurity "baseline:latest": privileged (container "app" must not set securityContext.privileged=true)"#)
        XCTAssertEqual(records[1]["message"] as? String, #"violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)"#)
    }

    func testStdin() throws {
        let result = try WebhookBinary.run(["check", "-"], stdin: Data(compliantPod.utf8))
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("PASS - document 1: Pod ok meets restricted:latest"), result.stdout)
        let failing = try WebhookBinary.run(["check", "-o", "json", "-"], stdin: Data(deployment.utf8))
        XCTAssertEqual(failing.status, 1)
        XCTAssertEqual(try json(failing.stdoutLines[0])["file"] as? String, "-")
    }

    func testBrokenFileExitsTwoNamingFileAndDocument() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("broken.yaml", compliantPod + "\n---\nkind: Pod\nmetadata: {name: [unclosed\n")
        let result = try WebhookBinary.run(["check", file])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("broken.yaml"), result.stderr)
        XCTAssertTrue(result.stderr.contains("document 2"), result.stderr)
    }

    func testWrongTypedFieldIsBadInputNamingTheField() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("typed.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec:
              containers:
              - name: app
                image: x
                securityContext:
                  privileged: "maybe"
            """)
        let result = try WebhookBinary.run(["check", file])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("typed.yaml: document 1"), result.stderr)
        XCTAssertTrue(result.stderr.contains("spec.containers[0].securityContext.privileged"), result.stderr)
    }

    func testMissingFileAndUsageErrors() throws {
        XCTAssertEqual(try WebhookBinary.run(["check", "/nonexistent/file.yaml"]).status, 2)
        XCTAssertTrue(try WebhookBinary.run(["check", "/nonexistent/file.yaml"]).stderr.contains("/nonexistent/file.yaml"))
        XCTAssertEqual(try WebhookBinary.run(["check"]).status, 2)
        XCTAssertEqual(try WebhookBinary.run(["check", "--level", "strict", "-"]).status, 2)
        XCTAssertEqual(try WebhookBinary.run(["check", "--version", "1.30", "-"]).status, 2)
        XCTAssertEqual(try WebhookBinary.run(["check", "-o", "yaml", "-"]).status, 2)
        XCTAssertEqual(try WebhookBinary.run(["check", "--bogus"]).status, 2)
        XCTAssertEqual(try WebhookBinary.run(["frobnicate"]).status, 2)
        let version = try WebhookBinary.run(["version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(version.stdout.hasPrefix("pod-security-webhook "), version.stdout)
    }

    func testPrivilegedLevelAllowsEverything() throws {
        let privileged = """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"hostPID":true,"containers":[{"name":"a","image":"x","securityContext":{"privileged":true}}]}}
            """
        let result = try WebhookBinary.run(["check", "--level", "privileged", "-o", "json", "-"], stdin: Data(privileged.utf8))
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(try json(result.stdoutLines[0])["allowed"] as? Bool, true)
    }
}
