@testable import AdmissionControl
import PodSecurity
import StrictJSON
import XCTest

final class ConfigurationTests: XCTestCase {
    func decode(_ text: String) throws -> AdmissionConfiguration {
        try AdmissionConfiguration(decoding: try JSONParser.parse(text))
    }

    func error(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> ConfigurationError? {
        do {
            _ = try decode(text)
            XCTFail("expected an error", file: file, line: line)
            return nil
        } catch let error as ConfigurationError {
            return error
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
            return nil
        }
    }

    func testFullConfiguration() throws {
        let configuration = try decode("""
        {"apiVersion":"pod-security.admission.config.k8s.io/v1","kind":"PodSecurityConfiguration",
         "defaults":{"enforce":"baseline","enforce-version":"v1.30","audit":"restricted","audit-version":"latest","warn":"restricted","warn-version":"v1.29"},
         "exemptions":{"usernames":["admin"],"namespaces":["kube-system"],"runtimeClasses":["kata.v2"]}}
        """)
        XCTAssertEqual(configuration.defaults, NamespacePolicy(
            enforce: LevelVersion(level: .baseline, version: Version(major: 1, minor: 30)),
            audit: LevelVersion(level: .restricted, version: .latest),
            warn: LevelVersion(level: .restricted, version: Version(major: 1, minor: 29))))
        XCTAssertEqual(configuration.exemptions, .init(usernames: ["admin"], namespaces: ["kube-system"], runtimeClasses: ["kata.v2"]))
    }

    func testMissingFieldsDefaultToPrivilegedLatest() throws {
        for version in ["v1", "v1beta1", "v1alpha1"] {
            let configuration = try decode(#"{"apiVersion":"pod-security.admission.config.k8s.io/\#(version)","kind":"PodSecurityConfiguration","defaults":{"enforce":"","warn":"baseline"}}"#)
            XCTAssertEqual(configuration.defaults.enforce, LevelVersion(level: .privileged, version: .latest), version)
            XCTAssertEqual(configuration.defaults.warn, LevelVersion(level: .baseline, version: .latest), version)
            XCTAssertEqual(configuration.exemptions, .init(), version)
        }
        XCTAssertEqual(AdmissionConfiguration.standard.defaults, .privileged)
        XCTAssertEqual(AdmissionConfiguration.standard.exemptions, .init())
    }

    func testInvalidValuesNameTheField() {
        let invalid = error(#"{"apiVersion":"pod-security.admission.config.k8s.io/v1","kind":"PodSecurityConfiguration","defaults":{"enforce":"strict"}}"#)
        XCTAssertEqual(invalid?.message, #"defaults.enforce: Invalid value: "strict": must be one of privileged, baseline, restricted"#)
        XCTAssertEqual(invalid?.description, #"invalid PodSecurity configuration: defaults.enforce: Invalid value: "strict": must be one of privileged, baseline, restricted"#)

        let several = error(#"{"apiVersion":"pod-security.admission.config.k8s.io/v1","kind":"PodSecurityConfiguration","defaults":{"audit-version":"1.2","warn":"x"},"exemptions":{"usernames":["a","","a"],"namespaces":["Kube"],"runtimeClasses":["ok","ok"]}}"#)
        XCTAssertEqual(several?.fieldErrors.map(\.field), [
            "defaults.warn", "defaults.audit-version", "exemptions.namespaces[0]", "exemptions.runtimeClasses[1]",
            "exemptions.usernames[1]", "exemptions.usernames[2]",
        ])
        XCTAssertEqual(several?.fieldErrors[3].description, #"exemptions.runtimeClasses[1]: Duplicate value: "ok""#)
        XCTAssertEqual(several?.fieldErrors[4].description, #"exemptions.usernames[1]: Invalid value: "": username must not be empty"#)
        XCTAssertEqual(several?.fieldErrors[2].description, #"exemptions.namespaces[0]: Invalid value: "Kube": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"#)
        XCTAssertTrue(several?.message.hasPrefix("[defaults.warn: Invalid value: \"x\"") == true)
    }

    func testWrongTypesAndKinds() {
        XCTAssertEqual(error(#"{"apiVersion":"pod-security.admission.config.k8s.io/v1","kind":"PodSecurityConfiguration","defaults":{"enforce":1}}"#)?.message,
                       "defaults.enforce: expected a string, got number")
        XCTAssertEqual(error(#"{"apiVersion":"pod-security.admission.config.k8s.io/v1","kind":"PodSecurityConfiguration","exemptions":{"namespaces":"kube-system"}}"#)?.message,
                       "exemptions.namespaces: expected an array of strings, got string")
        XCTAssertEqual(error(#"{"apiVersion":"v1","kind":"ConfigMap"}"#)?.message,
                       #"unsupported configuration apiVersion "v1" kind "ConfigMap": expected pod-security.admission.config.k8s.io/v1 PodSecurityConfiguration"#)
        XCTAssertEqual(error("[]")?.message, "the configuration must be a JSON object, not array")
    }

    func testAdmissionConfigurationWrapper() throws {
        let configuration = try decode("""
        {"apiVersion":"apiserver.config.k8s.io/v1","kind":"AdmissionConfiguration","plugins":[
          {"name":"EventRateLimit","configuration":{}},
          {"name":"PodSecurity","configuration":{"apiVersion":"pod-security.admission.config.k8s.io/v1","kind":"PodSecurityConfiguration",
            "defaults":{"enforce":"baseline"},"exemptions":{"namespaces":["kube-system"]}}}]}
        """)
        XCTAssertEqual(configuration.defaults.enforce, LevelVersion(level: .baseline, version: .latest))
        XCTAssertEqual(configuration.exemptions.namespaces, ["kube-system"])

        XCTAssertEqual(error(#"{"apiVersion":"apiserver.config.k8s.io/v1","kind":"AdmissionConfiguration","plugins":[]}"#)?.message,
                       "AdmissionConfiguration has no PodSecurity plugin")
        XCTAssertEqual(error(#"{"apiVersion":"apiserver.config.k8s.io/v1","kind":"AdmissionConfiguration","plugins":[{"name":"PodSecurity","configuration":{"apiVersion":"pod-security.admission.config.k8s.io/v1","kind":"PodSecurityConfiguration","defaults":{"warn":"nope"}}}]}"#)?.message,
                       #"plugins[0].configuration: defaults.warn: Invalid value: "nope": must be one of privileged, baseline, restricted"#)
    }
}

final class PolicyResolutionTests: XCTestCase {
    let latest = Version.latest
    func lv(_ level: Level, _ version: Version = .latest) -> LevelVersion { LevelVersion(level: level, version: version) }
    func v(_ minor: Int) -> Version { Version(major: 1, minor: minor) }

    func resolve(_ modes: [String: String], defaults: NamespacePolicy = .privileged) -> (NamespacePolicy, [FieldError]) {
        NamespacePolicy.resolve(labels: psaLabels(modes), defaults: defaults)
    }

    /// Upstream's TestPolicyToEvaluate cases.
    func testUpstreamCases() {
        let p = lv(.privileged)
        let cases: [(String, [String: String], NamespacePolicy, Bool)] = [
            ("simple enforce", ["enforce": "baseline"], NamespacePolicy(enforce: lv(.baseline), audit: p, warn: lv(.baseline)), false),
            ("simple warn", ["warn": "restricted"], NamespacePolicy(enforce: p, audit: p, warn: lv(.restricted)), false),
            ("simple audit", ["audit": "baseline"], NamespacePolicy(enforce: p, audit: lv(.baseline), warn: p), false),
            ("enforce & warn", ["enforce": "baseline", "warn": "restricted"], NamespacePolicy(enforce: lv(.baseline), audit: p, warn: lv(.restricted)), false),
            ("enforce version", ["enforce": "baseline", "enforce-version": "v1.22"], NamespacePolicy(enforce: lv(.baseline, v(22)), audit: p, warn: lv(.baseline, v(22))), false),
            ("enforce version & warn-version", ["enforce": "baseline", "enforce-version": "v1.22", "warn-version": "latest"],
             NamespacePolicy(enforce: lv(.baseline, v(22)), audit: p, warn: lv(.baseline)), false),
            ("enforce & warn-version", ["enforce": "baseline", "warn-version": "v1.23"], NamespacePolicy(enforce: lv(.baseline), audit: p, warn: lv(.baseline, v(23))), false),
            ("fully specd", ["enforce": "baseline", "enforce-version": "v1.20", "warn": "restricted", "warn-version": "v1.21", "audit": "restricted", "audit-version": "v1.22"],
             NamespacePolicy(enforce: lv(.baseline, v(20)), audit: lv(.restricted, v(22)), warn: lv(.restricted, v(21))), false),
            ("enforce no warn", ["enforce": "baseline", "warn": "privileged"], NamespacePolicy(enforce: lv(.baseline), audit: p, warn: p), false),
            ("enforce warn error", ["enforce": "baseline", "warn": "foo"], NamespacePolicy(enforce: lv(.baseline), audit: p, warn: p), true),
            ("enforce error", ["enforce": "foo"], NamespacePolicy(enforce: lv(.restricted), audit: p, warn: p), true),
        ]
        for (name, labels, expected, expectError) in cases {
            let (policy, errors) = resolve(labels)
            XCTAssertEqual(policy, expected, name)
            XCTAssertEqual(!errors.isEmpty, expectError, name)
        }
    }

    func testNoLabelsGiveTheDefaults() {
        let defaults = NamespacePolicy(enforce: lv(.baseline, v(25)), audit: lv(.restricted), warn: lv(.restricted))
        let (policy, errors) = NamespacePolicy.resolve(labels: [:], defaults: defaults)
        XCTAssertEqual(policy, defaults)
        XCTAssertEqual(errors, [])
        XCTAssertEqual(NamespacePolicy.resolve(labels: ["other": "x"], defaults: defaults).policy, defaults)
    }

    func testWarnDoesNotInheritALooserEnforce() {
        let defaults = NamespacePolicy(enforce: lv(.privileged), audit: lv(.privileged), warn: lv(.restricted))
        XCTAssertEqual(resolve(["enforce": "baseline"], defaults: defaults).0.warn, lv(.restricted))
    }

    func testErrorText() {
        let (_, errors) = resolve(["enforce": "foo", "audit-version": "v1.01"])
        XCTAssertEqual(errors.map(\.description), [
            #"metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "foo": must be one of privileged, baseline, restricted"#,
            #"metadata.labels[pod-security.kubernetes.io/audit-version]: Invalid value: "v1.01": must be "latest" or "v1.x""#,
        ])
        XCTAssertEqual(aggregateDescription(errors + errors), "[" + errors.map(\.description).joined(separator: ", ") + "]")
    }

    func testEquivalenceAndPrivileged() {
        let privileged20 = NamespacePolicy(enforce: lv(.privileged, v(20)), audit: lv(.privileged), warn: lv(.privileged))
        XCTAssertTrue(privileged20.isFullyPrivileged)
        XCTAssertTrue(privileged20.isEquivalent(to: .privileged))
        var baseline = NamespacePolicy.privileged
        baseline.audit.level = .baseline
        XCTAssertFalse(baseline.isFullyPrivileged)
        XCTAssertFalse(baseline.isEquivalent(to: .privileged))
    }

    func testGoQuoting() {
        XCTAssertEqual(goQuoted(#"a"b\c"#), #""a\"b\\c""#)
        XCTAssertEqual(goQuoted("tab\there\n"), #""tab\there\n""#)
        XCTAssertEqual(goQuoted("\u{01}é"), "\"\\x01é\"")
    }
}
