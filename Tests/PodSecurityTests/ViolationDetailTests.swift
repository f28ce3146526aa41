@testable import PodSecurity
import StrictJSON
import XCTest

/// A check's detail kept unwritten (`ViolationDetail`) must read exactly as the string the check used to build
/// (`String(concatenating:)`), and a message must write it as that string.
final class ViolationDetailTests: XCTestCase {
    static let nameLists: [[String]] = [
        [], ["app"], ["a", "b"], ["init", "app", "debug"], ["1", "2", "3", "4", "5"],
        [#"q"uote"#, #"back\slash"#], ["é", "🚀 rocket", "line\u{2028}sep", "nul\u{0}ctl\u{1}"], [""],
        ["a-name-that-is-longer-than-fifteen-bytes", "x"],
    ]

    func testContainersDetailReadsAsTheConcatenatedString() {
        for names in Self.nameLists {
            let pairs: [(ViolationDetail, String)] = [
                ("\(containers: names) must set securityContext.allowPrivilegeEscalation=false",
                 String(concatenating: "\(containers: names) must set securityContext.allowPrivilegeEscalation=false")),
                ("pod or \(containers: names) must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                 String(concatenating: "pod or \(containers: names) must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"")),
                ("pod or \(containers: names)", String(concatenating: "pod or \(containers: names)")),
                ("\(containers: names)", String(concatenating: "\(containers: names)")),
                ("é \(containers: names) ü", String(concatenating: "é \(containers: names) ü")),
            ]
            for (detail, expected) in pairs {
                XCTAssertEqual(detail.text, expected, "\(names)")
                XCTAssertEqual(String(writing: detail), expected, "\(names)")
                XCTAssertEqual(detail.utf8Count, expected.utf8.count, "\(names)")
                XCTAssertFalse(detail.isEmpty)
            }
        }
    }

    func testTextDetail() {
        for text in ["", "hostNetwork=true", #"volume "v" uses restricted volume type "hostPath""#, "é\u{2028}🚀"] {
            for detail in [ViolationDetail(text), ViolationDetail(stringLiteral: text)] {
                XCTAssertEqual(detail.text, text)
                XCTAssertEqual(String(writing: detail), text)
                XCTAssertEqual(detail.utf8Count, text.utf8.count)
                XCTAssertEqual(detail.isEmpty, text.isEmpty)
            }
        }
        let literal: ViolationDetail = "plain literal"
        XCTAssertEqual(literal.text, "plain literal")
    }

    func testViolationDetailReadsWritesAndCompares() {
        for names in Self.nameLists {
            let unwritten = Violation(checkID: "privileged", reason: "privileged",
                                      unwrittenDetail: "\(containers: names) must not set securityContext.privileged=true")
            let text = String(concatenating: "\(containers: names) must not set securityContext.privileged=true")
            let written = Violation(checkID: "privileged", reason: "privileged", detail: text)
            XCTAssertEqual(unwritten.detail, text)
            XCTAssertEqual(unwritten, written)
            XCTAssertEqual(unwritten.hashValue, written.hashValue)
            XCTAssertNotEqual(unwritten, Violation(checkID: "privileged", reason: "privileged", detail: text + "x"))
            var changed = unwritten
            changed.detail = "other"
            XCTAssertEqual(changed.detail, "other")
            XCTAssertEqual(unwritten.detail, text)
        }
    }

    /// A violation holds its check's finding: setting the reason or the detail replaces the finding, keeps the
    /// other field, and leaves copies of the violation as they were.
    func testViolationSettersKeepTheOtherFieldAndCopies() {
        let names = ["a", "b\"c"]
        let original = Violation(checkID: "privileged", reason: "privileged",
                                 unwrittenDetail: "\(containers: names) must not set securityContext.privileged=true")
        let text = original.detail
        var renamed = original
        renamed.reason = "other reason"
        XCTAssertEqual(renamed.reason, "other reason")
        XCTAssertEqual(renamed.detail, text)
        XCTAssertEqual(renamed.checkID, "privileged")
        var redetailed = original
        redetailed.detail = "other detail"
        XCTAssertEqual(redetailed.reason, "privileged")
        XCTAssertEqual(redetailed.detail, "other detail")
        XCTAssertEqual(original.reason, "privileged")
        XCTAssertEqual(original.detail, text)
        XCTAssertNotEqual(original, renamed)
        XCTAssertNotEqual(original, redetailed)
    }

    /// `sortedUnique` answers a list of none or one as it is, and sorts and deduplicates longer ones by bytes.
    func testSortedUnique() {
        XCTAssertEqual(sortedUnique([]), [])
        XCTAssertEqual(sortedUnique(["b"]), ["b"])
        XCTAssertEqual(sortedUnique(["b", "a", "b", "B", "é", "a"]), ["B", "a", "b", "é"])
    }

    /// `Volume.hasAny(of:)` answers as `has` does for each kind in the mask, a volume without sources counting as
    /// `emptyDir`.
    func testVolumeHasAnyAgreesWithHas() {
        let kinds = VolumeSourceKind.allCases
        var volumes = [Volume(name: "none")]
        for kind in kinds { volumes.append(Volume(name: "one", sources: [kind])) }
        volumes.append(Volume(name: "two", sources: [.hostPath, .configMap]))
        let masks: [[VolumeSourceKind]] = [[], [.emptyDir], [.hostPath], [.configMap, .secret, .emptyDir], kinds]
            + kinds.map { [$0] }
        for volume in volumes {
            for mask in masks {
                XCTAssertEqual(volume.hasAny(of: mask.reduce(0) { $0 | $1.bit }), mask.contains(where: volume.has),
                               "\(volume.sources) \(mask)")
            }
        }
    }

    /// A message's reasons, written from unwritten details, read as PSA joins the strings.
    func testMessagesWriteUnwrittenDetailsAsStrings() {
        for names in Self.nameLists {
            let violations = [
                Violation(checkID: "hostNamespaces", reason: "host namespaces", detail: "hostNetwork=true"),
                Violation(checkID: "none", reason: "no detail", detail: ""),
                Violation(checkID: "runAsNonRoot", reason: "runAsNonRoot != true",
                          unwrittenDetail: "pod or \(containers: names) must set securityContext.runAsNonRoot=true"),
                Violation(checkID: "privileged", reason: "privileged",
                          unwrittenDetail: "\(containers: names) must not set securityContext.privileged=true"),
            ]
            let expectedReasons = violations.map { $0.detail.isEmpty ? $0.reason : "\($0.reason) (\($0.detail))" }
                .joined(separator: ", ")
            let evaluation = Evaluation(violations: violations)
            XCTAssertEqual(evaluation.forbiddenReason, expectedReasons)
            let policy = LevelVersion(level: .restricted, version: .latest)
            XCTAssertEqual(evaluation.message(for: policy), #"violates PodSecurity "restricted:latest": "# + expectedReasons)
            let message = evaluation.message("would violate", policy)
            XCTAssertEqual(String(writing: message), #"would violate PodSecurity "restricted:latest": "# + expectedReasons)
            XCTAssertEqual(message.lengthAfterVerb, message.utf8Count - "would violate".utf8.count)
        }
    }

    /// A detail naming containers by bits over the pod's lists (`ContainerMask`, `ContainerNames`) reads as the one
    /// made from `containerNames(where:)`, in every list, past a mask's 64 bits and with names needing escapes.
    func testContainerNamesByBitsReadAsTheNamesArray() {
        let names = ["a", #"q"uote"#, #"back\slash"#, "é", "line\u{2028}sep", "", "a-name-longer-than-fifteen-bytes"]
        for (sizes, seed) in [((0, 1, 0), 1), ((1, 2, 1), 2), ((3, 5, 2), 3), ((0, 64, 0), 4), ((0, 65, 0), 5),
                              ((70, 3, 0), 6), ((2, 3, 66), 7), ((64, 64, 64), 8)] {
            var spec = PodSpec()
            var next = seed
            func container(_ index: Int) -> Container {
                next = (next &* 1103515245 &+ 12345) & 0x7FFF_FFFF
                return Container(name: names[(next >> 8) % names.count] + String(index))
            }
            spec.initContainers = (0..<sizes.0).map(container)
            spec.containers = (0..<sizes.1).map(container)
            spec.ephemeralContainers = (0..<sizes.2).map(container)
            let predicates: [(borrowing Container) -> Bool] = [
                { _ in true }, { _ in false }, { $0.name.utf8.count % 2 == 0 }, { $0.name.hasSuffix("1") },
                { $0.name.hasPrefix("q") || $0.name.hasSuffix("9") },
            ]
            for isMatch in predicates {
                let mask = spec.containerMask(where: isMatch)
                let expectedNames = spec.containerNames(where: isMatch)
                XCTAssertEqual(mask.isEmpty, expectedNames.isEmpty, "\(sizes)")
                let selected = spec.containerNames(mask, where: isMatch)
                XCTAssertEqual(selected.count, expectedNames.count)
                XCTAssertEqual(selected.array, expectedNames)
                let detail = ViolationDetail("pod or ", containers: selected, " must set x")
                let expected = String(concatenating: "pod or \(containers: expectedNames) must set x")
                XCTAssertEqual(detail.text, expected, "\(sizes)")
                XCTAssertEqual(String(writing: detail), expected)
                XCTAssertEqual(detail.utf8Count, expected.utf8.count)
            }
        }
    }

    /// restrictedVolumes' detail, written in place, reads as the one upstream's shape builds from lists of names
    /// and types (first restricted source set, else "unknown"; types sorted and unique; `joinQuote`, `pluralize`),
    /// for up to 100 volumes.
    func testRestrictedVolumesReadAsBuiltFromLists() {
        let kinds = VolumeSourceKind.allCases
        var next = 7
        for count in [1, 2, 3, 5, 20, 64, 65, 100] {
            for _ in 0..<20 {
                var spec = PodSpec()
                spec.volumes = (0..<count).map { index in
                    next = (next &* 1103515245 &+ 12345) & 0x7FFF_FFFF
                    let sources = (next >> 8) % 5 == 0 ? [] : [kinds[(next >> 12) % kinds.count]]
                    return Volume(name: [#"v"q"#, "w", "é\u{2028}", #"b\s"#][(next >> 16) % 4] + String(index), sources: sources)
                }
                let finding = Checks.restrictedVolumesV1Dot0(PodMetadata(), spec)
                let allowed = Checks.allowedVolumeSourceBits
                let bad = spec.volumes.filter { !$0.hasAny(of: allowed) }
                let types = sortedUnique(bad.map { volume in
                    Checks.restrictedVolumeSources.first(where: volume.has)?.rawValue ?? "unknown"
                })
                let expected = bad.isEmpty ? nil : "\(pluralize("volume", "volumes", bad.count)) \(joinQuote(bad.map(\.name))) \(pluralize("uses", "use", bad.count)) \(pluralize("restricted volume type", "restricted volume types", types.count)) \(joinQuote(types))"
                XCTAssertEqual(finding?.reason, bad.isEmpty ? nil : "restricted volume types")
                XCTAssertEqual(finding?.detail.text, expected)
            }
        }
    }

    func testWriteLastBytes() {
        for text in ["", "abc", "violates PodSecurity \"x\": é🚀\u{2028}", String(repeating: "long text ", count: 40)] {
            let bytes = Array(text.utf8)
            // Every count that starts a character.
            for count in 0...bytes.count where count == 0 || (bytes[bytes.count - count] & 0xC0) != 0x80 {
                let written = String(capacity: count + 1) { writer in
                    writer.write(">")
                    writer.write(text, lastBytes: count)
                }
                XCTAssertEqual(Array(written.utf8), [UInt8(ascii: ">")] + bytes.suffix(count), "\(text) \(count)")
            }
        }
    }

    /// Pieces of every length around the short copy's cases (0, 1–3, 4–7, 8–16) and past it, ASCII and not,
    /// written end to end, read as the same pieces joined.
    func testPiecesOfEveryShortLengthWriteAsJoined() {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP")
        var pieces: [String] = []
        for length in 0...40 { pieces.append(String(alphabet[0..<length])) }
        pieces += ["é", "é\"", "ü€", "🚀", "a🚀b", "\u{2028}x\u{2029}", "nul\u{0}", "ñandú ñandú ñ"]
        for start in pieces.indices {
            let chosen = (0..<5).map { pieces[(start + $0 * 7) % pieces.count] }
            let expected = chosen.joined()
            let written = String(capacity: expected.utf8.count) { text in
                for piece in chosen { text.write(piece) }
            }
            XCTAssertEqual(written, expected)
            XCTAssertEqual(Array(written.utf8), Array(expected.utf8))
            // Literals take the same path.
            let literal = String(capacity: 5 + expected.utf8.count + 2) { text in
                text.write(literal: "a(b)c")
                for piece in chosen { text.write(piece) }
                text.write(literal: ", ")
            }
            XCTAssertEqual(literal, "a(b)c" + expected + ", ")
        }
    }
}
