import PodSecurity
import StrictJSON
import XCTest

/// Edge cases per check that the upstream fixtures do not pin down: exact details, pod versus container
/// settings, inheritance, nulls, empty lists, Windows and user-namespace pods, ephemeral containers.
final class CheckTests: XCTestCase {
    // MARK: baseline

    func testHostNamespacesListsEachInFixedOrder() throws {
        let p = try pod(#"{"spec":{"hostIPC":true,"hostNetwork":true,"hostPID":true,"containers":[{"name":"a"}]}}"#)
        XCTAssertEqual(reasons(p, .baseline), "host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)")
        XCTAssertEqual(reasons(try pod(#"{"spec":{"hostNetwork":false}}"#), .baseline), "")
    }

    func testPrivilegedNamesEveryContainerKindInVisitOrder() throws {
        let p = try pod("""
        {"spec":{"ephemeralContainers":[{"name":"e","securityContext":{"privileged":true}}],
          "containers":[{"name":"c","securityContext":{"privileged":true}},{"name":"ok","securityContext":{"privileged":false}}],
          "initContainers":[{"name":"i","securityContext":{"privileged":true}}]}}
        """)
        XCTAssertEqual(reasons(p, .baseline), #"privileged (containers "i", "c", "e" must not set securityContext.privileged=true)"#)
    }

    func testCapabilitiesBaselineSortsAndDeduplicatesCapabilities() throws {
        let p = try pod("""
        {"spec":{"containers":[{"name":"a","securityContext":{"capabilities":{"add":["SYS_ADMIN","NET_RAW","CHOWN"]}}},
          {"name":"b","securityContext":{"capabilities":{"add":["NET_RAW"]}}},{"name":"c","securityContext":{"capabilities":{"add":[]}}}]}}
        """)
        XCTAssertEqual(reasons(p, .baseline),
                       #"non-default capabilities (containers "a", "b" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add)"#)
    }

    func testHostPortsAreSortedAsStrings() throws {
        let p = try pod(#"{"spec":{"containers":[{"name":"a","ports":[{"hostPort":9000},{"hostPort":10000},{"containerPort":80,"hostPort":0}]}]}}"#)
        XCTAssertEqual(reasons(p, .baseline), #"hostPort (container "a" uses hostPorts 10000, 9000)"#)
        let one = try pod(#"{"spec":{"containers":[{"name":"a","ports":[{"hostPort":80}]},{"name":"b","ports":[{"hostPort":80}]}]}}"#)
        XCTAssertEqual(reasons(one, .baseline), #"hostPort (containers "a", "b" use hostPort 80)"#)
    }

    func testHostPathVolumesAndTheEmptyDirDefault() throws {
        let p = try pod(#"{"spec":{"volumes":[{"name":"h","hostPath":{"path":"/"}},{"name":"plain"},{"name":"h2","hostPath":{}}]}}"#)
        XCTAssertEqual(reasons(p, .baseline), #"hostPath volumes (volumes "h", "h2")"#)
    }

    func testProbeAndLifecycleHostsFromV1Dot34() throws {
        let p = try pod("""
        {"spec":{"containers":[{"name":"b","livenessProbe":{"httpGet":{"host":"z.example","port":1}},
            "lifecycle":{"postStart":{"tcpSocket":{"host":"127.0.0.1"}}}},
          {"name":"a","startupProbe":{"tcpSocket":{"host":"z.example"}}},
          {"name":"ok","readinessProbe":{"httpGet":{"host":"","port":1}}}]}}
        """)
        XCTAssertEqual(reasons(p, .baseline, "v1.33"), "")
        XCTAssertEqual(reasons(p, .baseline, "v1.34"),
                       #"probe or lifecycle host (containers "a", "b" use probe or lifecycle hosts "127.0.0.1", "z.example")"#)
    }

    func testProcMountRelaxedForUserNamespacePodsAtBaselineOnly() throws {
        let json = #"{"spec":{"hostUsers":false,"containers":[{"name":"a","securityContext":{"procMount":"Unmasked"}}]}}"#
        let p = try pod(json)
        XCTAssertEqual(reasons(p, .baseline, "v1.34"), #"procMount (container "a" must not set securityContext.procMount to "Unmasked")"#)
        XCTAssertEqual(reasons(p, .baseline, "v1.35"), "")
        XCTAssertTrue(reasons(p, .restricted, "v1.35").contains(#"procMount (container "a" must not set securityContext.procMount to "Unmasked")"#))
        let hostUsers = try pod(json.replacingOccurrences(of: "\"hostUsers\":false", with: "\"hostUsers\":true"))
        XCTAssertEqual(reasons(hostUsers, .baseline, "v1.35"), #"procMount (container "a" must not set securityContext.procMount to "Unmasked")"#)
        XCTAssertEqual(reasons(try pod(#"{"spec":{"containers":[{"name":"a","securityContext":{"procMount":"Default"}}]}}"#), .baseline), "")
    }

    func testSELinuxCombinesPodAndContainersAndProblems() throws {
        let p = try pod("""
        {"spec":{"securityContext":{"seLinuxOptions":{"type":"spc_t"}},
          "containers":[{"name":"a","securityContext":{"seLinuxOptions":{"user":"u","role":"r"}}},
                        {"name":"b","securityContext":{"seLinuxOptions":{"type":"container_engine_t","level":"s0:c1"}}}]}}
        """)
        XCTAssertEqual(reasons(p, .baseline, "v1.30"),
                       #"seLinuxOptions (pod and containers "a", "b" set forbidden securityContext.seLinuxOptions: types "container_engine_t", "spc_t"; user may not be set; role may not be set)"#)
        XCTAssertEqual(reasons(p, .baseline, "v1.31"),
                       #"seLinuxOptions (pod and container "a" set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set; role may not be set)"#)
    }

    func testSeccompAnnotationsBeforeV1Dot19AndFieldsAfter() throws {
        let p = try pod("""
        {"metadata":{"annotations":{"seccomp.security.alpha.kubernetes.io/pod":"unconfined",
            "container.seccomp.security.alpha.kubernetes.io/a":"docker/default",
            "container.seccomp.security.alpha.kubernetes.io/b":"un\\"confined"}},
         "spec":{"securityContext":{"seccompProfile":{"type":"Unconfined"}},
           "containers":[{"name":"a"},{"name":"b","securityContext":{"seccompProfile":{"type":"Unconfined"}}}]}}
        """)
        XCTAssertEqual(reasons(p, .baseline, "v1.18"),
                       #"seccompProfile (forbidden annotations container.seccomp.security.alpha.kubernetes.io/b="un\"confined", seccomp.security.alpha.kubernetes.io/pod="unconfined")"#)
        XCTAssertEqual(reasons(p, .baseline, "v1.19"),
                       #"seccompProfile (pod and container "b" must not set securityContext.seccompProfile.type to "Unconfined")"#)
    }

    func testSysctlsKeepPodOrderAndRepeatsAndGrowByVersion() throws {
        let p = try pod("""
        {"spec":{"securityContext":{"sysctls":[{"name":"kernel.msgmax","value":"1"},{"name":"net.ipv4.tcp_rmem","value":"1"},
          {"name":"kernel.msgmax","value":"2"},{"name":"net.ipv4.ip_local_port_range","value":"1 2"}]}}}
        """)
        XCTAssertEqual(reasons(p, .baseline, "v1.31"), "forbidden sysctls (kernel.msgmax, net.ipv4.tcp_rmem, kernel.msgmax)")
        XCTAssertEqual(reasons(p, .baseline, "v1.32"), "forbidden sysctls (kernel.msgmax, kernel.msgmax)")
        XCTAssertEqual(reasons(try pod(#"{"spec":{"securityContext":{"sysctls":[]}}}"#), .baseline), "")
    }

    func testAppArmorFieldsAndAnnotationsTogether() throws {
        let p = try pod("""
        {"metadata":{"annotations":{"container.apparmor.security.beta.kubernetes.io/b":"unconfined",
            "container.apparmor.security.beta.kubernetes.io/a":"localhost/custom","other":"unconfined"}},
         "spec":{"securityContext":{"appArmorProfile":{"type":"Unconfined"}},
           "containers":[{"name":"a","securityContext":{"appArmorProfile":{"type":"Localhost","localhostProfile":"x"}}},
                         {"name":"c","securityContext":{"appArmorProfile":{"type":"Unconfined"}}}]}}
        """)
        XCTAssertEqual(reasons(p, .baseline, "v1.0"),
                       #"forbidden AppArmor profiles (pod and container "c" and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/b="unconfined"")"#)
    }

    func testWindowsHostProcessAtPodAndContainerLevel() throws {
        let p = try pod("""
        {"spec":{"securityContext":{"windowsOptions":{"hostProcess":true}},
          "containers":[{"name":"a","securityContext":{"windowsOptions":{"hostProcess":true}}},{"name":"b","securityContext":{"windowsOptions":{}}}]}}
        """)
        XCTAssertEqual(reasons(p, .baseline),
                       #"hostProcess (pod and container "a" must not set securityContext.windowsOptions.hostProcess=true)"#)
    }

    // MARK: restricted

    func testRunAsNonRootInheritedFromThePod() throws {
        XCTAssertTrue(PodSecurityEvaluator.evaluate(try pod(restrictedPodJSON), at: policy(.restricted)).allowed)
        let overridden = try pod("""
        {"spec":{"securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},
          "containers":[{"name":"a","securityContext":{"runAsNonRoot":false,"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}
        """)
        XCTAssertEqual(reasons(overridden, .restricted), #"runAsNonRoot != true (container "a" must not set securityContext.runAsNonRoot=false)"#)
        let podFalse = try pod("""
        {"spec":{"securityContext":{"runAsNonRoot":false,"seccompProfile":{"type":"RuntimeDefault"}},
          "containers":[{"name":"a","securityContext":{"runAsNonRoot":true,"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}},
                        {"name":"b","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}
        """)
        // An explicit false wins over the containers left implicit.
        XCTAssertEqual(reasons(podFalse, .restricted), #"runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)"#)
    }

    func testUserNamespacePodsSkipRunAsChecksFromV1Dot35() throws {
        let p = try pod("""
        {"spec":{"hostUsers":false,"securityContext":{"runAsUser":0,"seccompProfile":{"type":"RuntimeDefault"}},
          "containers":[{"name":"a","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}
        """)
        XCTAssertEqual(reasons(p, .restricted, "v1.34"),
                       #"runAsNonRoot != true (pod or container "a" must set securityContext.runAsNonRoot=true), runAsUser=0 (pod must not set runAsUser=0)"#)
        XCTAssertEqual(reasons(p, .restricted, "v1.35"), "")
    }

    func testRunAsUserZeroOnPodAndContainers() throws {
        let p = try pod("""
        {"spec":{"securityContext":{"runAsNonRoot":true,"runAsUser":0,"seccompProfile":{"type":"RuntimeDefault"}},
          "initContainers":[{"name":"i","securityContext":{"runAsUser":0,"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}],
          "containers":[{"name":"a","securityContext":{"runAsUser":1,"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}
        """)
        XCTAssertEqual(reasons(p, .restricted, "v1.22"), "")
        XCTAssertEqual(reasons(p, .restricted, "v1.23"), #"runAsUser=0 (pod and container "i" must not set runAsUser=0)"#)
    }

    func testWindowsPodsAreExemptFromLinuxOnlyChecksFromV1Dot25() throws {
        let p = try pod(#"{"spec":{"os":{"name":"windows"},"securityContext":{"runAsNonRoot":true},"containers":[{"name":"a"}]}}"#)
        XCTAssertEqual(reasons(p, .restricted, "v1.25"), "")
        XCTAssertEqual(reasons(p, .restricted, "v1.24"), #"allowPrivilegeEscalation != false (container "a" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "a" must set securityContext.capabilities.drop=["ALL"]), seccompProfile (pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#)
        let linux = try pod(#"{"spec":{"os":{"name":"linux"},"securityContext":{"runAsNonRoot":true},"containers":[{"name":"a"}]}}"#)
        XCTAssertNotEqual(reasons(linux, .restricted, "v1.25"), "")
    }

    func testCapabilitiesRestrictedBothProblems() throws {
        let p = try pod("""
        {"spec":{"securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},
          "containers":[{"name":"a","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["NET_RAW"],"add":["NET_BIND_SERVICE","CHOWN"]}}},
                        {"name":"b","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"],"add":["SYS_TIME","CHOWN"]}}},
                        {"name":"c","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":[]}}}]}}
        """)
        XCTAssertEqual(reasons(p, .restricted),
                       #"unrestricted capabilities (containers "a", "c" must set securityContext.capabilities.drop=["ALL"]; containers "a", "b" must not include "CHOWN", "SYS_TIME" in securityContext.capabilities.add)"#)
        // Before v1.22 restricted uses baseline's capability rule: CHOWN is allowed, SYS_TIME is not.
        XCTAssertEqual(reasons(p, .restricted, "v1.21"),
                       #"non-default capabilities (container "b" must not include "SYS_TIME" in securityContext.capabilities.add)"#)
    }

    func testSeccompRestrictedPodLevelCoversContainersUnlessOverriddenBadly() throws {
        let p = try pod("""
        {"spec":{"securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"Localhost"}},
          "containers":[{"name":"a","securityContext":{"seccompProfile":{"type":"Unconfined"},"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}},
                        {"name":"b","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}
        """)
        XCTAssertEqual(reasons(p, .restricted), #"seccompProfile (container "a" must not set securityContext.seccompProfile.type to "Unconfined")"#)
    }

    func testRestrictedVolumesNamesTypesAndDefaults() throws {
        let p = try pod("""
        {"spec":{"securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},
          "containers":[{"name":"a","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}],
          "volumes":[{"name":"ok1","configMap":{}},{"name":"ok2"},{"name":"ok3","image":{"reference":"x"}},
            {"name":"n","nfs":{"server":"s","path":"/"}},{"name":"h","hostPath":{"path":"/"}},{"name":"g","gitRepo":{}}]}}
        """)
        XCTAssertEqual(reasons(p, .restricted),
                       #"restricted volume types (volumes "n", "h", "g" use restricted volume types "gitRepo", "hostPath", "nfs")"#)
    }

    func testEphemeralContainersAreEvaluatedLikeOthers() throws {
        let p = try pod("""
        {"spec":{"securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},
          "containers":[{"name":"a","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}],
          "ephemeralContainers":[{"name":"debugger","image":"busybox"}]}}
        """)
        XCTAssertEqual(reasons(p, .restricted),
                       #"allowPrivilegeEscalation != false (container "debugger" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "debugger" must set securityContext.capabilities.drop=["ALL"])"#)
    }

    func testEmptyPodPassesBaselineAndRestrictedHasNothingToName() throws {
        XCTAssertEqual(reasons(try pod(#"{"spec":{}}"#), .baseline), "")
        XCTAssertEqual(reasons(try pod(#"{"spec":{"containers":[]}}"#), .restricted), "")
        XCTAssertEqual(reasons(try pod(#"{}"#), .restricted), "")
    }
}

final class GoSyntaxTests: XCTestCase {
    func testQuotesAsGoStrconvQuote() {
        XCTAssertEqual(GoSyntax.quoted("web-1"), #""web-1""#)
        XCTAssertEqual(GoSyntax.quoted("a\"b\\c"), #""a\"b\\c""#)
        XCTAssertEqual(GoSyntax.quoted("tab\there\n"), #""tab\there\n""#)
        XCTAssertEqual(GoSyntax.quoted("\u{01}\u{7F}"), #""\x01\x7f""#)
        XCTAssertEqual(GoSyntax.quoted("été"), "\"été\"")
        XCTAssertEqual(GoSyntax.quoted("\u{2028}\u{AD}"), #""\u2028\u00ad""#)
    }

    /// Written in place into a longer text, the same bytes as the quoted string.
    func testQuotedTextWritesAsTheQuotedString() {
        for text in ["", "web-1", "web-7d4b9c6f8-k8s2d", "a\"b\\c", "tab\there\n", "\u{01}\u{7F}", "été", "\u{2028}\u{AD}", " ~"] {
            XCTAssertEqual(String(writing: GoQuotedText(text)), GoSyntax.quoted(text), text.debugDescription)
            XCTAssertEqual(GoQuotedText(text).utf8Count, GoSyntax.quoted(text).utf8.count, text.debugDescription)
        }
    }
}
