@testable import PodSecurity
import StrictJSON
import XCTest

final class PodDecodingTests: XCTestCase {
    func testReadsEveryFieldTheChecksUse() throws {
        let decoded = try pod("""
        {"metadata":{"name":"n","namespace":"ns","annotations":{"a":"b","seccomp.security.alpha.kubernetes.io/pod":"x"}},
         "spec":{"hostNetwork":true,"hostPID":true,"hostIPC":false,"hostUsers":false,"runtimeClassName":"gvisor",
          "os":{"name":"windows"},
          "securityContext":{"runAsNonRoot":true,"runAsUser":1000,"sysctls":[{"name":"kernel.x","value":"1"}],
            "seLinuxOptions":{"type":"t","user":"u","role":"r","level":"s0"},"seccompProfile":{"type":"Localhost"},
            "appArmorProfile":{"type":"RuntimeDefault"},"windowsOptions":{"hostProcess":false}},
          "initContainers":[{"name":"i"}],
          "containers":[{"name":"c","ports":[{"containerPort":80,"hostPort":8080}],
            "livenessProbe":{"httpGet":{"host":"h1","port":1}},"readinessProbe":{"tcpSocket":{"port":2}},
            "lifecycle":{"preStop":{"httpGet":{"host":"h2"}}},
            "securityContext":{"privileged":true,"allowPrivilegeEscalation":false,"runAsUser":0,"procMount":"Unmasked",
              "capabilities":{"add":["NET_RAW"],"drop":["ALL"]}}}],
          "ephemeralContainers":[{"name":"e"}],
          "volumes":[{"name":"v","hostPath":{"path":"/"}},{"name":"w"}]}}
        """)
        XCTAssertEqual(decoded.metadata.annotations, ["seccomp.security.alpha.kubernetes.io/pod": "x"])
        let spec = decoded.spec
        XCTAssertTrue(spec.hostNetwork && spec.hostPID && !spec.hostIPC)
        XCTAssertEqual(spec.hostUsers, false)
        XCTAssertTrue(spec.isWindows)
        XCTAssertEqual(spec.runtimeClassName, "gvisor")
        XCTAssertEqual(spec.securityContext?.runAsUser, 1000)
        XCTAssertEqual(spec.securityContext?.sysctls, [Sysctl(name: "kernel.x", value: "1")])
        XCTAssertEqual(spec.securityContext?.seLinuxOptions?.role, "r")
        XCTAssertEqual(spec.allContainers.map(\.name), ["i", "c", "e"])
        let container = spec.containers[0]
        XCTAssertEqual(container.ports, [ContainerPort(hostPort: 8080, containerPort: 80)])
        XCTAssertEqual(container.livenessProbe?.httpGetHost, "h1")
        XCTAssertEqual(container.readinessProbe?.tcpSocketHost, "")
        XCTAssertNil(container.readinessProbe?.httpGetHost)
        XCTAssertEqual(container.lifecycle?.preStop?.httpGetHost, "h2")
        XCTAssertEqual(container.securityContext?.capabilities, Capabilities(add: ["NET_RAW"], drop: ["ALL"]))
        XCTAssertEqual(container.securityContext?.procMount, "Unmasked")
        // Only the volumes a check may flag are kept: `w`, with no source, is defaulted to emptyDir.
        XCTAssertEqual(spec.volumes.map(\.name), ["v"])
        XCTAssertEqual(spec.volumes.map(\.sources), [[.hostPath]])
        XCTAssertTrue(Volume(name: "w").has(.emptyDir), "a volume with no source is defaulted to emptyDir")
    }

    /// Only the volumes some check may flag are kept (none of restricted's allowed sources, or a hostPath), in
    /// order, their names decoded as before; the others are ignored after their names' types are checked.
    func testKeepsOnlyTheVolumesChecksMayFlag() throws {
        let json = #"""
        {"spec":{"volumes":[{"name":"c","configMap":{}},{"name":"h\u0041","hostPath":{},"configMap":{}},{"name":"none"},
          {"secret":{},"name":"s"},{"nfs":{}},{"name":"n","nfs":{},"name":"n2"},{"name":"p","projected":{},"emptyDir":null},
          {"name":null,"gitRepo":{}},{"name":"e","hostPath":null,"emptyDir":{}}]}}
        """#
        let bytes = Array(json.utf8)
        let document = try JSONDocument(parsing: bytes)
        for decoded in [try Pod(decoding: JSONParser.parse(bytes)), try Pod(decoding: document, at: document.root)] {
            XCTAssertEqual(decoded.spec.volumes.map(\.name), ["hA", "", "n2", ""])
            XCTAssertEqual(decoded.spec.volumes.map(\.sources), [[.hostPath, .configMap], [.nfs], [.nfs], [.gitRepo]])
        }
        // A dropped volume's name is still type-checked.
        XCTAssertThrowsError(try pod(#"{"spec":{"volumes":[{"name":1,"secret":{}}]}}"#)) { error in
            XCTAssertEqual((error as? PodDecodeError)?.description, "spec.volumes[0].name: expected string, found number")
        }
    }

    /// Only the annotations a check reads are kept, however their keys are written; the others are ignored
    /// (after their type is checked), by both readers.
    func testKeepsOnlyTheAnnotationsChecksRead() throws {
        let json = #"""
        {"metadata":{"annotations":{
          "a":"b","kubectl.kubernetes.io/restartedAt":"2026-11-19T17:02:44Z",
          "container.apparmor.security.beta.kubernetes.io/c":"unconfined",
          "container.apparmor.security.beta.kubernetes.io":"no slash",
          "container.seccomp.security.alpha.kubernetes.io\u002fi":"unconfined",
          "seccomp.security.alpha.kubernetes.io/pod":null,
          "seccomp.security.alpha.kubernetes.io/po":"too short",
          "\u0063ontainer.apparmor.security.beta.kubernetes.io/d":"runtime/default"}}}
        """#
        let expected = [
            "container.apparmor.security.beta.kubernetes.io/c": "unconfined",
            "container.seccomp.security.alpha.kubernetes.io/i": "unconfined",
            "seccomp.security.alpha.kubernetes.io/pod": "",
            "container.apparmor.security.beta.kubernetes.io/d": "runtime/default",
        ]
        let bytes = Array(json.utf8)
        let document = try JSONDocument(parsing: bytes)
        XCTAssertEqual(try Pod(decoding: document, at: document.root).metadata.annotations, expected)
        XCTAssertEqual(try Pod(decoding: JSONParser.parse(bytes)).metadata.annotations, expected)
        // Each key a check reads is covered.
        for key in [Checks.appArmorAnnotationPrefix + "c", Checks.seccompPodAnnotation, Checks.seccompContainerAnnotationPrefix + "c"] {
            let keyJSON = try JSONDocument(parsing: Array("{\"metadata\":{\"annotations\":{\"\(key)\":\"v\"}}}".utf8))
            XCTAssertEqual(try Pod(decoding: keyJSON, at: keyJSON.root).metadata.annotations, [key: "v"], key)
        }
        // An ignored annotation of the wrong type is still an error.
        XCTAssertThrowsError(try pod(#"{"metadata":{"annotations":{"a":{}}}}"#)) { error in
            XCTAssertEqual((error as? PodDecodeError)?.description, "metadata.annotations.a: expected string, found object")
        }
    }

    /// The decoder reads a parsed document on the admission path and a tree elsewhere: both must give the same
    /// pod, or the same error, for the same JSON, whatever type each field turns out to have.
    func testDocumentAndTreeDecodeAlike() throws {
        let base = #"""
        {"metadata":{"name":"n","namespace":"ns","annotations":{"a":"b","container.apparmor.security.beta.kubernetes.io/c":"t"}},
         "spec":{"hostNetwork":true,"hostPID":false,"hostUsers":false,"runtimeClassName":"gvisor","os":{"name":"linux"},
          "securityContext":{"runAsNonRoot":true,"runAsUser":1000,"sysctls":[{"name":"kernel.x","value":"1"}],
            "seLinuxOptions":{"type":"t"},"seccompProfile":{"type":"Localhost"},"windowsOptions":{"hostProcess":false}},
          "initContainers":[{"name":"i","securityContext":{"capabilities":{"drop":["ALL"],"add":null}}}],
          "containers":[{"name":"c","ports":[{"containerPort":80,"hostPort":8080}],"livenessProbe":{"httpGet":{"host":"h"}},
            "lifecycle":{"preStop":{"tcpSocket":{"host":"h2"}}},
            "securityContext":{"privileged":true,"runAsUser":0,"procMount":"Unmasked","seccompProfile":{"type":"x"}}}],
          "volumes":[{"name":"v","hostPath":{"path":"/"}},{"name":"w","emptyDir":null,"secret":{}}],"name":"\\u0041"}}
        """#
        let values = ["true", "false", "null", "1000", "-1", "1.5", "99999999999", "\"s\"", "[]", "[\"ALL\", 1]", "{}", "{\"host\":1}",
                      "-0", "1e3", "1.0", "2147483648", "-2147483649", "9223372036854775808", "-9223372036854775808"]
        let tokens = ["true", "false", "null", "1000", "8080", "\"t\"", "\"h\"", "\"ALL\"", "{\"path\":\"/\"}", "{}", "\"b\"", "\"n\""]
        var rng = SystemRandomNumberGenerator()
        var compared = 0, failed = 0
        for _ in 0..<3_000 {
            var text = base
            for _ in 0..<Int.random(in: 0...3, using: &rng) {
                let token = tokens.randomElement(using: &rng)!
                let ranges = text.ranges(of: token)
                guard let range = ranges.randomElement(using: &rng) else { continue }
                text.replaceSubrange(range, with: values.randomElement(using: &rng)!)
            }
            let bytes = Array(text.utf8)
            guard let tree = try? JSONParser.parse(bytes), let document = try? JSONDocument(parsing: bytes) else { continue }
            let fromTree = Result { () throws(PodDecodeError) in try Pod(decoding: tree) }
            let fromDocument = Result { () throws(PodDecodeError) in try Pod(decoding: document, at: document.root) }
            XCTAssertEqual(fromTree, fromDocument, text)
            compared += 1
            if case .failure = fromTree { failed += 1 }
        }
        XCTAssertGreaterThan(compared, 2_000)
        XCTAssertGreaterThan(failed, 100)
        XCTAssertLessThan(failed, compared)
    }

    func testWrongTypeNamesTheFieldPath() {
        let cases: [(String, String)] = [
            (#"{"spec":{"containers":[{"name":"a"},{"name":"b","securityContext":{"privileged":"true"}}]}}"#,
             "spec.containers[1].securityContext.privileged: expected boolean, found string"),
            (#"{"spec":{"hostNetwork":1}}"#, "spec.hostNetwork: expected boolean, found number"),
            (#"{"spec":{"containers":{}}}"#, "spec.containers: expected array, found object"),
            (#"{"spec":{"securityContext":{"runAsUser":1.5}}}"#, "spec.securityContext.runAsUser: expected a 64-bit integer, found 1.5"),
            (#"{"spec":{"initContainers":[{"ports":[{"hostPort":4294967296}]}]}}"#,
             "spec.initContainers[0].ports[0].hostPort: expected a 32-bit integer, found 4294967296"),
            (#"{"spec":{"securityContext":{"runAsUser":1e3}}}"#, "spec.securityContext.runAsUser: expected a 64-bit integer, found 1e3"),
            (#"{"spec":{"securityContext":{"runAsUser":9223372036854775808}}}"#,
             "spec.securityContext.runAsUser: expected a 64-bit integer, found 9223372036854775808"),
            (#"{"spec":{"containers":[{"ports":[{"containerPort":-2147483649}]}]}}"#,
             "spec.containers[0].ports[0].containerPort: expected a 32-bit integer, found -2147483649"),
            (#"{"metadata":{"annotations":{"k":1}}}"#, "metadata.annotations.k: expected string, found number"),
            // Name and namespace are not kept (no check reads them), but their types are still checked.
            (#"{"metadata":{"name":1}}"#, "metadata.name: expected string, found number"),
            (#"{"metadata":{"name":"p","namespace":{}}}"#, "metadata.namespace: expected string, found object"),
            (#"{"spec":{"volumes":[{"name":"v","hostPath":"/"}]}}"#, "spec.volumes[0].hostPath: expected object, found string"),
            (#"{"spec":{"ephemeralContainers":[{"securityContext":{"capabilities":{"add":[1]}}}]}}"#,
             "spec.ephemeralContainers[0].securityContext.capabilities.add[0]: expected string, found number"),
            (#"[]"#, "expected a Pod object, found array"),
        ]
        for (json, expected) in cases {
            XCTAssertThrowsError(try pod(json), json) { error in
                XCTAssertEqual((error as? PodDecodeError)?.description, expected, json)
            }
        }
    }

    func testTemplatePathPrefixesErrors() throws {
        let template = try JSONParser.parse(#"{"spec":{"hostPID":"yes"}}"#)
        XCTAssertThrowsError(try Pod(metadata: nil, spec: template["spec"], path: "spec.template")) { error in
            XCTAssertEqual((error as? PodDecodeError)?.path, "spec.template.spec.hostPID")
        }
    }

    func testExplicitNullsAreUnset() throws {
        let decoded = try pod("""
        {"metadata":{"annotations":null},"spec":{"securityContext":null,"hostUsers":null,"os":null,
          "containers":[{"name":"a","securityContext":{"runAsNonRoot":null,"capabilities":null,"seccompProfile":null}}],
          "initContainers":null,"volumes":[{"name":"v","hostPath":null,"nfs":{}}]}}
        """)
        XCTAssertNil(decoded.spec.securityContext)
        XCTAssertNil(decoded.spec.hostUsers)
        XCTAssertNil(decoded.spec.osName)
        XCTAssertNil(decoded.spec.containers[0].securityContext?.runAsNonRoot)
        XCTAssertNil(decoded.spec.containers[0].securityContext?.capabilities)
        XCTAssertEqual(decoded.spec.volumes[0].sources, [.nfs])
    }

    func testRepeatedKeyLastWinsAsInGo() throws {
        let decoded = try pod(#"{"spec":{"hostPID":true,"hostPID":false}}"#)
        XCTAssertFalse(decoded.spec.hostPID)
    }

    /// Each object's matcher finds exactly its own fields' keys (each case spelled as its key; escaped too), and
    /// nothing for every other field's key or a near miss.
    func testFieldMatchersFindTheirObjectsFieldsAlone() throws {
        for (match, fields) in PodField.fieldsByObject {
            for field in PodField.allCases {
                var key = "\(field)"
                XCTAssertEqual(key.withUTF8(match), fields.contains(field) ? field : nil, "\(field) in \(fields)")
                for variant in [key + "x", String(key.dropLast()), key.uppercased(), "", "x" + key] {
                    var variant = variant
                    XCTAssertNil(variant.withUTF8(match), variant)
                }
                let escaped = "\\u00" + String(key.utf8.first!, radix: 16) + key.dropFirst()
                let document = try JSONDocument(parsing: Array("{\"\(escaped)\":1}".utf8))
                let found = document.withView { view in
                    DocumentSource(view: view).withUTF8(of: view.members(of: document.root).first { _ in true }!.key, match)
                }
                XCTAssertEqual(found, fields.contains(field) ? field : nil, escaped)
            }
        }
    }

    /// The volume source matcher finds every source by its key, and nothing for a field's key or a near miss.
    func testVolumeSourceMatcherFindsEverySourceAlone() throws {
        for kind in VolumeSourceKind.allCases {
            var key = kind.rawValue
            XCTAssertEqual(key.withUTF8(VolumeSourceKind.matching), kind)
            for variant in [key + "x", String(key.dropLast()), key.uppercased(), "x" + key] {
                var variant = variant
                XCTAssertNil(variant.withUTF8(VolumeSourceKind.matching), variant)
            }
        }
        for field in PodField.allCases {
            var key = "\(field)"
            XCTAssertNil(key.withUTF8(VolumeSourceKind.matching), key)
        }
    }

    /// The annotation test finds exactly the keys starting with one of the listed prefixes.
    func testCheckedAnnotationsAreTheListedPrefixes() throws {
        var keys = ["", "a", "kubectl.kubernetes.io/restartedAt", "seccomp.security.alpha.kubernetes.io/po"]
        for prefix in PodMetadata.checkedAnnotationPrefixes {
            let text = prefix.description
            keys += [text, text + "c", String(text.dropLast()), "x" + text, text.uppercased(), text + "container-name"]
            for index in text.indices { var changed = text; changed.replaceSubrange(index...index, with: "~"); keys.append(changed) }
        }
        for key in keys {
            var bytes = key
            let expected = PodMetadata.checkedAnnotationPrefixes.contains { key.utf8.starts(with: $0.description.utf8) }
            XCTAssertEqual(bytes.withUTF8(PodMetadata.isCheckedAnnotation), expected, key)
        }
    }

    func testVolumeSourcesAreASetOfDistinctKinds() throws {
        XCTAssertEqual(Volume(sources: VolumeSourceKind.allCases.reversed()).sources, VolumeSourceKind.allCases)
        for kind in VolumeSourceKind.allCases {
            let volume = Volume(sources: [kind])
            XCTAssertEqual(volume.sources, [kind])
            XCTAssertEqual(VolumeSourceKind.allCases.filter(volume.has), [kind])
        }
        let decoded = try pod(#"{"spec":{"volumes":[{"secret":{},"nfs":{},"secret":null},{"rbd":{},"rbd":{}}]}}"#)
        XCTAssertEqual(decoded.spec.volumes.map(\.sources), [[.nfs], [.rbd]])
    }

    /// A drop list that is exactly `["ALL"]` is recognized by its bytes (escaped or not) and shared; any other
    /// list is decoded element by element, by both decoders alike.
    func testCapabilityListsDecodeAlikeWhetherOrNotExactlyALL() throws {
        let lists: [(String, [String])] = [
            (#"["ALL"]"#, ["ALL"]), (#"["AL\u004c"]"#, ["ALL"]), (#"["ALL","ALL"]"#, ["ALL", "ALL"]), (#"["ALLX"]"#, ["ALLX"]),
            (#"["AL"]"#, ["AL"]), (#"["all"]"#, ["all"]), (#"[null]"#, [""]), (#"[""]"#, [""]), (#"[]"#, []),
            (#"["NET_RAW","ALL"]"#, ["NET_RAW", "ALL"]), (#"["ALL\n"]"#, ["ALL\n"]),
            (#"["a-capability-name-longer-than-fifteen"]"#, ["a-capability-name-longer-than-fifteen"]),
        ]
        for (list, expected) in lists {
            let json = #"{"spec":{"containers":[{"name":"c","securityContext":{"capabilities":{"drop":\#(list),"add":\#(list)}}}]}}"#
            let bytes = Array(json.utf8)
            let document = try JSONDocument(parsing: bytes)
            for decoded in [try pod(json), try Pod(decoding: document, at: document.root)] {
                XCTAssertEqual(decoded.spec.containers[0].securityContext?.capabilities, Capabilities(add: expected, drop: expected), list)
            }
        }
        for list in [#"[1]"#, #"["ALL",1]"#, #"[{}]"#] {
            let json = #"{"spec":{"containers":[{"securityContext":{"capabilities":{"drop":\#(list)}}}]}}"#
            let document = try JSONDocument(parsing: Array(json.utf8))
            XCTAssertThrowsError(try Pod(decoding: document, at: document.root), list) { error in
                XCTAssertTrue((error as? PodDecodeError)?.description.hasPrefix("spec.containers[0].securityContext.capabilities.drop[") ?? false, "\(error)")
            }
            XCTAssertThrowsError(try pod(json), list)
        }
    }

    /// The security contexts' rarely set fields are held in immutable boxes: they must still behave as values
    /// (a copy does not see a later change) and compare as the fields, a context whose rare fields were set
    /// and then unset being equal, with the same hash, to one that never had them.
    func testRarelySetFieldsBehaveAsValues() {
        var options = SELinuxOptions()
        options.type = "spc_t"
        var context = SecurityContext()
        context.seLinuxOptions = options
        context.appArmorProfile = AppArmorProfile(type: "Unconfined")
        context.procMount = "Unmasked"
        let copy = context
        context.seLinuxOptions?.user = "u"
        context.procMount = nil
        XCTAssertEqual(copy.seLinuxOptions, options)
        XCTAssertEqual(copy.procMount, "Unmasked")
        XCTAssertEqual(context.seLinuxOptions?.user, "u")
        XCTAssertEqual(context.seLinuxOptions?.type, "spc_t")
        XCTAssertEqual(context.appArmorProfile?.type, "Unconfined")
        XCTAssertNil(context.procMount)
        XCTAssertNotEqual(context, copy)

        var rebuilt = SecurityContext()
        rebuilt.seLinuxOptions = context.seLinuxOptions
        rebuilt.appArmorProfile = AppArmorProfile(type: "Unconfined")
        XCTAssertEqual(rebuilt, context)
        XCTAssertEqual(rebuilt.hashValue, context.hashValue)

        context.seLinuxOptions = nil
        context.appArmorProfile = nil
        XCTAssertEqual(context, SecurityContext())
        XCTAssertEqual(context.hashValue, SecurityContext().hashValue)

        var podContext = PodSecurityContext()
        podContext.seLinuxOptions = options
        let podCopy = podContext
        podContext.seLinuxOptions?.level = "s0"
        XCTAssertEqual(podCopy.seLinuxOptions, options)
        XCTAssertNotEqual(podContext, podCopy)
        podContext.seLinuxOptions = nil
        XCTAssertEqual(podContext, PodSecurityContext())
    }

    func testUnknownFieldsAreIgnored() throws {
        let decoded = try pod(#"{"spec":{"futureField":{"x":[1,2]},"containers":[{"name":"a","weird":true}]}}"#)
        XCTAssertEqual(decoded.spec.containers.map(\.name), ["a"])
    }
}
