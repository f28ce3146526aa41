import Manifests
import StrictJSON
import XCTest

final class ManifestReaderTests: XCTestCase {
    private func objects(_ text: String, file: String = "m.yaml") throws -> [ManifestObject] {
        try ManifestReader.objects(in: Array(text.utf8), sourceName: file)
    }

    private func readError(_ text: String, file: String = "m.yaml", limits: ManifestReader.Limits = .init()) -> ManifestError? {
        do {
            _ = try ManifestReader.objects(in: Array(text.utf8), sourceName: file, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    func testYAMLDocumentsInOrderWithEmptyDocumentsCounted() throws {
        let text = """
            ---
            kind: Pod
            metadata: {name: a}
            ---
            # only a comment
            ---
            kind: Service
            metadata:
              name: b
            ...
            ---
            ~
            ---
            kind: Pod
            metadata: {name: c}
            """
        let read = try objects(text)
        XCTAssertEqual(read.map(\.documentNumber), [1, 3, 5])
        XCTAssertEqual(read.map { $0.value["metadata"]?["name"]?.stringValue }, ["a", "b", "c"])
        XCTAssertEqual(read.map(\.itemIndex), [nil, nil, nil])
    }

    func testListsExpandIntoItemsInOrder() throws {
        let text = """
            apiVersion: v1
            kind: List
            items:
            - {kind: Pod, metadata: {name: one}}
            - {kind: Deployment, metadata: {name: two}}
            ---
            kind: PodList
            items: []
            ---
            kind: ConfigMap
            metadata: {name: three}
            """
        let read = try objects(text)
        XCTAssertEqual(read.map { $0.value["metadata"]?["name"]?.stringValue }, ["one", "two", "three"])
        XCTAssertEqual(read.map(\.itemIndex), [0, 1, nil])
        XCTAssertEqual(read.map(\.documentNumber), [1, 1, 3])
    }

    func testJSONSingleAndConcatenatedValues() throws {
        let text = #"{"kind":"Pod","metadata":{"name":"a"}} {"kind":"List","items":[{"kind":"Pod","metadata":{"name":"b"}}]}"#
        let read = try objects(text, file: "p.json")
        XCTAssertEqual(read.map { $0.value["metadata"]?["name"]?.stringValue }, ["a", "b"])
        XCTAssertEqual(read.map(\.documentNumber), [1, 2])
        XCTAssertEqual(read.map(\.itemIndex), [nil, 0])
    }

    func testYAMLScalarsResolveAsKubectlDoes() throws {
        let text = """
            kind: Pod
            yes11: yes
            off11: Off
            quotedYes: "yes"
            single: 'true'
            tilde: ~
            empty:
            hex: 0x1F
            octal: 0o17
            oldOctal: 017
            underscored: 1_000
            negative: -42
            float: 1.5
            exponent: 1e3
            tagged: !!str 123
            taggedInt: !!int "7"
            version: 1.20
            text: hello world
            block: |
              line one

            """
        let value = try XCTUnwrap(objects(text).first?.value)
        XCTAssertEqual(value["yes11"], .bool(true))
        XCTAssertEqual(value["off11"], .bool(false))
        XCTAssertEqual(value["quotedYes"], .string("yes"))
        XCTAssertEqual(value["single"], .string("true"))
        XCTAssertEqual(value["tilde"], .null)
        XCTAssertEqual(value["empty"], .null)
        XCTAssertEqual(value["hex"]?.numberValue?.text, "31")
        XCTAssertEqual(value["octal"]?.numberValue?.text, "15")
        XCTAssertEqual(value["oldOctal"]?.numberValue?.text, "15")
        XCTAssertEqual(value["underscored"]?.numberValue?.text, "1000")
        XCTAssertEqual(value["negative"]?.numberValue?.text, "-42")
        XCTAssertEqual(value["float"]?.numberValue?.double, 1.5)
        XCTAssertEqual(value["exponent"]?.numberValue?.text, "1000")
        XCTAssertEqual(value["tagged"], .string("123"))
        XCTAssertEqual(value["taggedInt"]?.numberValue?.text, "7")
        XCTAssertEqual(value["version"]?.numberValue?.double, 1.2)
        XCTAssertEqual(value["text"], .string("hello world"))
        XCTAssertEqual(value["block"], .string("line one\n"))
    }

    func testNonStringKeysBecomeStrings() throws {
        let value = try XCTUnwrap(objects("kind: X\n1: a\ntrue: b\n").first?.value)
        XCTAssertEqual(value["1"], .string("a"))
        XCTAssertEqual(value["true"], .string("b"))
    }

    func testAnchorsAliasesAndMergeKeys() throws {
        let text = """
            kind: Pod
            base: &ctx
              runAsNonRoot: true
              runAsUser: 1000
            spec:
              securityContext: *ctx
              override:
                <<: *ctx
                runAsUser: 2000
            """
        let value = try XCTUnwrap(objects(text).first?.value)
        XCTAssertEqual(value["spec"]?["securityContext"]?["runAsNonRoot"], .bool(true))
        XCTAssertEqual(value["spec"]?["override"]?["runAsUser"]?.numberValue?.text, "2000")
        XCTAssertEqual(value["spec"]?["override"]?["runAsNonRoot"], .bool(true))
    }

    func testBrokenYAMLNamesSourceDocumentAndLine() throws {
        let text = "kind: Pod\nmetadata: {name: a}\n---\nkind: Pod\nmetadata: {name: [unclosed\n"
        let error = try XCTUnwrap(readError(text, file: "broken.yaml"))
        XCTAssertEqual(error.source, "broken.yaml")
        XCTAssertEqual(error.documentNumber, 2)
        XCTAssertNotNil(error.line)
        XCTAssertTrue(error.description.hasPrefix("broken.yaml: document 2 (line "), error.description)
    }

    func testBrokenJSONNamesTheDocument() throws {
        let error = try XCTUnwrap(readError(#"{"kind":"Pod"} {"kind": "Pod", }"#, file: "x.json"))
        XCTAssertEqual(error.documentNumber, 2)
        XCTAssertTrue(error.message.contains("invalid JSON"), error.message)
        XCTAssertEqual(error.line, 1)
    }

    func testFlowYAMLThatIsNotJSONStillReads() throws {
        let read = try objects("{kind: Pod, metadata: {name: flow}}")
        XCTAssertEqual(read.first?.value["metadata"]?["name"], .string("flow"))
    }

    func testDuplicateKeysAreAnError() throws {
        let error = try XCTUnwrap(readError("kind: Pod\nspec:\n  hostNetwork: false\n  hostNetwork: true\n"))
        XCTAssertTrue(error.message.contains("duplicate key \"hostNetwork\""), error.description)
        XCTAssertEqual(error.line, 4)
    }

    func testDocumentsThatAreNotObjectsAreErrors() throws {
        XCTAssertTrue(try XCTUnwrap(readError("- a\n- b\n")).message.contains("found array"))
        XCTAssertTrue(try XCTUnwrap(readError("just text\n")).message.contains("found string"))
        XCTAssertTrue(try XCTUnwrap(readError("kind: List\nitems: {a: b}\n")).message.contains("items"))
        XCTAssertTrue(try XCTUnwrap(readError("kind: List\nitems: [1]\n")).message.contains("items[0]"))
    }

    func testAliasExpansionIsBounded() throws {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let error = try XCTUnwrap(readError(text))
        XCTAssertTrue(error.message.contains("more than"), error.description)
    }

    func testNestingDepthIsBounded() throws {
        var limits = ManifestReader.Limits()
        limits.maxDepth = 50
        let deep = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        XCTAssertNotNil(readError("kind: X\nv: " + deep + "\n", limits: limits))
        XCTAssertNotNil(readError(deep, limits: limits))
    }

    func testInfinityHasNoJSONForm() throws {
        XCTAssertTrue(try XCTUnwrap(readError("kind: X\nv: .inf\n")).message.contains("no JSON representation"))
    }

    func testEmptyAndCommentOnlyInputHaveNoObjects() throws {
        XCTAssertEqual(try objects("").count, 0)
        XCTAssertEqual(try objects("# nothing\n").count, 0)
        XCTAssertEqual(try objects("\n\n").count, 0)
    }

    func testMutatedInputNeverCrashes() {
        let seed = Array("kind: List\nitems:\n- kind: Pod\n  metadata: {name: a, labels: {x: 'y'}}\n  spec: &s {containers: [{name: c}]}\n- {kind: Pod, spec: *s}\n---\n{\"kind\": \"Pod\"}\n".utf8)
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("{}[]:,-&*!|>'\"#\n \t?%@`\\".utf8)
        for _ in 0..<3_000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                let position = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[position] = alphabet.randomElement(using: &generator)!
                case 1: bytes.insert(alphabet.randomElement(using: &generator)!, at: position)
                default: bytes.remove(at: position)
                }
            }
            _ = try? ManifestReader.objects(in: bytes, sourceName: "fuzz")
        }
    }
}
