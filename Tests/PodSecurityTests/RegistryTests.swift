import PodSecurity
import XCTest

final class RegistryTests: XCTestCase {
    func testLevelVersionsPrintAsPSAPrintsThem() {
        for level in Level.allCases {
            XCTAssertEqual(LevelVersion(level: level, version: .latest).description, "\(level.rawValue):latest")
            XCTAssertEqual(LevelVersion(level: level, version: Version(major: 1, minor: 30)).description, "\(level.rawValue):v1.30")
        }
    }

    func testLatestIsTheNewestRegisteredVersion() {
        XCTAssertEqual(Version.newestKnown, Version(major: 1, minor: 37))
        XCTAssertEqual(PodSecurityEvaluator.checkIDs(at: policy(.restricted, "latest")),
                       PodSecurityEvaluator.checkIDs(at: policy(.restricted, "v1.37")))
    }

    func testFutureVersionsEvaluateAsTheNewest() throws {
        let p = try pod(#"{"spec":{"securityContext":{"sysctls":[{"name":"net.ipv4.tcp_notsent_lowat"}]}}}"#)
        XCTAssertEqual(reasons(p, .baseline, "v1.36"), "forbidden sysctls (net.ipv4.tcp_notsent_lowat)")
        XCTAssertEqual(reasons(p, .baseline, "v1.99"), "")
    }

    func testBaselineOrderIsByIDInByteOrder() {
        XCTAssertEqual(PodSecurityEvaluator.checkIDs(at: policy(.baseline)), [
            "appArmorProfile", "capabilities_baseline", "hostNamespaces", "hostPathVolumes", "hostPorts",
            "hostProbesAndHostLifecycle", "privileged", "procMount", "seLinuxOptions", "seccompProfile_baseline",
            "sysctls", "windowsHostProcess",
        ])
    }

    func testRestrictedDropsOverriddenBaselineChecksAndAppendsItsOwn() {
        XCTAssertEqual(PodSecurityEvaluator.checkIDs(at: policy(.restricted)), [
            "appArmorProfile", "hostNamespaces", "hostPorts", "hostProbesAndHostLifecycle", "privileged",
            "seLinuxOptions", "sysctls", "windowsHostProcess",
            "allowPrivilegeEscalation", "capabilities_restricted", "procMount_restricted", "restrictedVolumes",
            "runAsNonRoot", "runAsUser", "seccompProfile_restricted",
        ])
        // Before v1.19 restricted has no seccomp check of its own, so baseline's annotation check stays.
        let old = PodSecurityEvaluator.checkIDs(at: policy(.restricted, "v1.0"))
        XCTAssertTrue(old.contains("seccompProfile_baseline"))
        XCTAssertTrue(old.contains("capabilities_baseline"))
        XCTAssertFalse(old.contains("allowPrivilegeEscalation"), "allowPrivilegeEscalation starts at v1.8")
        XCTAssertFalse(old.contains("hostPathVolumes"))
    }

    func testPrivilegedAllowsEverything() throws {
        let p = try pod(#"{"spec":{"hostPID":true,"containers":[{"name":"a","securityContext":{"privileged":true}}]}}"#)
        XCTAssertTrue(PodSecurityEvaluator.evaluate(p, at: policy(.privileged)).allowed)
        XCTAssertEqual(PodSecurityEvaluator.checkIDs(at: policy(.privileged)), [])
    }

    func testMessageIsPSAsAggregate() throws {
        let p = try pod(#"{"spec":{"containers":[{"name":"a"},{"name":"b"}]}}"#)
        let evaluation = PodSecurityEvaluator.evaluate(p, at: policy(.restricted, "v1.30"))
        XCTAssertEqual(evaluation.message(for: policy(.restricted, "v1.30")), """
        violates PodSecurity "restricted:v1.30": allowPrivilegeEscalation != false (containers "a", "b" must set securityContext.allowPrivilegeEscalation=false), \
        unrestricted capabilities (containers "a", "b" must set securityContext.capabilities.drop=["ALL"]), \
        runAsNonRoot != true (pod or containers "a", "b" must set securityContext.runAsNonRoot=true), \
        seccompProfile (pod or containers "a", "b" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")
        """)
        XCTAssertEqual(evaluation.violations.map(\.checkID),
                       ["allowPrivilegeEscalation", "capabilities_restricted", "runAsNonRoot", "seccompProfile_restricted"])
    }
}
