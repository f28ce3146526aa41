import CYAML
import StrictJSON

/// YAML → JSON values through the system libyaml's event parser, resolving plain scalars as the Kubernetes
/// tooling does (go-yaml v2 under sigs.k8s.io/yaml: YAML 1.1 booleans such as `yes`/`on`, `0x` and `0o` integers,
/// `~` for null). Anchors and aliases are expanded within a node budget; `<<` merge keys are honoured.
/// Duplicate keys are an error: the apiserver would keep one of them silently and a reviewer would read the other.
enum YAMLDocumentReader {
    static func documents(
        in bytes: [UInt8], sourceName: String, limits: ManifestReader.Limits
    ) throws(ManifestError) -> [(number: Int, value: JSONValue)] {
        let result: Result<[(number: Int, value: JSONValue)], ManifestError> = bytes.withUnsafeBufferPointer { buffer in
            // libyaml's parser holds pointers into itself: it lives at one address and is never copied.
            let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
            defer { parser.deallocate() }
            guard yaml_parser_initialize(parser) == 1 else {
                return .failure(ManifestError(source: sourceName, documentNumber: 1, message: "cannot initialise the YAML parser"))
            }
            defer { yaml_parser_delete(parser) }
            guard let base = buffer.baseAddress, buffer.count > 0 else { return .success([]) }
            yaml_parser_set_input_string(parser, base, buffer.count)
            var builder = Builder(parser: parser, sourceName: sourceName, limits: limits)
            do throws(ManifestError) {
                let documents = try builder.stream()
                return .success(documents)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

/// A YAML event with what the builder needs, copied out of libyaml's structure.
private struct YAMLEvent {
    enum Kind { case streamStart, streamEnd, documentStart, documentEnd, alias, scalar, sequenceStart, sequenceEnd, mappingStart, mappingEnd }
    var kind: Kind
    var anchor: String?
    var tag: String?
    var value: String = ""
    var isPlain = false
    var line: Int
    var column: Int
}

/// Builds JSON values from libyaml's events, one document at a time.
private struct Builder {
    let parser: UnsafeMutablePointer<yaml_parser_t>
    let sourceName: String
    let limits: ManifestReader.Limits
    var documentNumber = 0
    var anchors: [String: (value: JSONValue, nodes: Int)] = [:]
    var nodeCount = 0

    init(parser: UnsafeMutablePointer<yaml_parser_t>, sourceName: String, limits: ManifestReader.Limits) {
        self.parser = parser
        self.sourceName = sourceName
        self.limits = limits
    }

    mutating func stream() throws(ManifestError) -> [(number: Int, value: JSONValue)] {
        var documents: [(number: Int, value: JSONValue)] = []
        guard try next().kind == .streamStart else { throw failure("expected the start of a YAML stream", line: nil, column: nil) }
        while true {
            let event = try next()
            switch event.kind {
            case .streamEnd:
                return documents
            case .documentStart:
                documentNumber += 1
                anchors = [:]
                nodeCount = 0
                let root = try node(try next(), depth: 1)
                guard try next().kind == .documentEnd else { throw failure("expected the end of the document", line: nil, column: nil) }
                if !root.isNull { documents.append((documentNumber, root)) }
            default:
                throw failure("unexpected YAML event outside a document", line: event.line, column: event.column)
            }
        }
    }

    /// The value of the node that starts with `event`.
    mutating func node(_ event: YAMLEvent, depth: Int) throws(ManifestError) -> JSONValue {
        guard depth <= limits.maxDepth else {
            throw failure("nesting deeper than \(limits.maxDepth) levels", line: event.line, column: event.column)
        }
        let startCount = nodeCount
        try countNodes(1, at: event)
        let value: JSONValue
        switch event.kind {
        case .alias:
            guard let anchor = event.anchor, let anchored = anchors[anchor] else {
                throw failure("unknown alias *\(event.anchor ?? "")", line: event.line, column: event.column)
            }
            try countNodes(anchored.nodes, at: event)
            return anchored.value
        case .scalar:
            switch YAMLScalarResolver.resolve(event.value, tag: event.tag, isPlain: event.isPlain) {
            case .success(let resolved): value = resolved
            case .failure(let problem): throw failure(problem.message, line: event.line, column: event.column)
            }
        case .sequenceStart:
            var items: [JSONValue] = []
            while true {
                let child = try next()
                if child.kind == .sequenceEnd { break }
                items.append(try node(child, depth: depth + 1))
            }
            value = .array(items)
        case .mappingStart:
            value = .object(try mapping(depth: depth))
        default:
            throw failure("unexpected YAML event", line: event.line, column: event.column)
        }
        if let anchor = event.anchor { anchors[anchor] = (value, nodeCount - startCount) }
        return value
    }

    /// A mapping's members; keys become strings as sigs.k8s.io/yaml writes them; `<<` merges.
    mutating func mapping(depth: Int) throws(ManifestError) -> JSONObject {
        var members: [JSONObject.Member] = []
        var seen = Set<String>()
        var merged: [JSONObject.Member] = []
        while true {
            let keyEvent = try next()
            if keyEvent.kind == .mappingEnd { break }
            let keyValue = try node(keyEvent, depth: depth + 1)
            let valueEvent = try next()
            let value = try node(valueEvent, depth: depth + 1)
            if keyEvent.kind == .scalar, keyEvent.isPlain, keyEvent.value == "<<", keyEvent.tag == nil || keyEvent.tag == "tag:yaml.org,2002:merge" {
                merged += try mergeMembers(value, at: valueEvent)
                continue
            }
            let key: String
            switch keyValue {
            case .string(let text): key = text
            case .number(let number): key = number.text
            case .bool(let flag): key = flag ? "true" : "false"
            case .null: key = "null"
            case .array, .object:
                throw failure("a mapping key must be a scalar", line: keyEvent.line, column: keyEvent.column)
            }
            guard seen.insert(key).inserted else {
                throw failure("duplicate key \"\(key)\"", line: keyEvent.line, column: keyEvent.column)
            }
            members.append(JSONObject.Member(key: key, value: value))
        }
        // Explicit keys win over merged ones, whatever their order (YAML merge key semantics).
        var mergedSeen = seen
        for member in merged where mergedSeen.insert(member.key).inserted {
            members.append(member)
        }
        return JSONObject(members)
    }

    func mergeMembers(_ value: JSONValue, at event: YAMLEvent) throws(ManifestError) -> [JSONObject.Member] {
        switch value {
        case .object(let object):
            return object.members
        case .array(let items):
            // Earlier mappings in the list win over later ones.
            var result: [JSONObject.Member] = []
            var seen = Set<String>()
            for item in items {
                guard case .object(let object) = item else {
                    throw failure("a << merge list must hold mappings", line: event.line, column: event.column)
                }
                for member in object.members where seen.insert(member.key).inserted { result.append(member) }
            }
            return result
        default:
            throw failure("a << merge value must be a mapping or a list of mappings", line: event.line, column: event.column)
        }
    }

    mutating func countNodes(_ count: Int, at event: YAMLEvent) throws(ManifestError) {
        nodeCount += count
        if nodeCount > limits.maxNodes {
            throw failure("document expands to more than \(limits.maxNodes) nodes (aliases?)", line: event.line, column: event.column)
        }
    }

    mutating func next() throws(ManifestError) -> YAMLEvent {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else {
            let problem = parser.pointee.problem.map { String(cString: $0) } ?? "unknown YAML error"
            var message = problem
            if let context = parser.pointee.context.map({ String(cString: $0) }) { message = "\(context): \(problem)" }
            // A failure inside a document that has not started yet belongs to the next one.
            if documentNumber == 0 { documentNumber = 1 }
            throw failure(message, line: Int(parser.pointee.problem_mark.line) + 1, column: Int(parser.pointee.problem_mark.column) + 1)
        }
        defer { yaml_event_delete(&event) }
        let line = Int(event.start_mark.line) + 1
        let column = Int(event.start_mark.column) + 1
        func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
        }
        switch event.type {
        case YAML_STREAM_START_EVENT: return YAMLEvent(kind: .streamStart, line: line, column: column)
        case YAML_STREAM_END_EVENT: return YAMLEvent(kind: .streamEnd, line: line, column: column)
        case YAML_DOCUMENT_START_EVENT: return YAMLEvent(kind: .documentStart, line: line, column: column)
        case YAML_DOCUMENT_END_EVENT: return YAMLEvent(kind: .documentEnd, line: line, column: column)
        case YAML_ALIAS_EVENT:
            return YAMLEvent(kind: .alias, anchor: text(event.data.alias.anchor), line: line, column: column)
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let value: String
            if let pointer = scalar.value {
                value = String(decoding: UnsafeBufferPointer(start: pointer, count: scalar.length), as: UTF8.self)
            } else {
                value = ""
            }
            return YAMLEvent(kind: .scalar, anchor: text(scalar.anchor), tag: text(scalar.tag), value: value,
                             isPlain: scalar.style == YAML_PLAIN_SCALAR_STYLE, line: line, column: column)
        case YAML_SEQUENCE_START_EVENT:
            return YAMLEvent(kind: .sequenceStart, anchor: text(event.data.sequence_start.anchor),
                             tag: text(event.data.sequence_start.tag), line: line, column: column)
        case YAML_SEQUENCE_END_EVENT: return YAMLEvent(kind: .sequenceEnd, line: line, column: column)
        case YAML_MAPPING_START_EVENT:
            return YAMLEvent(kind: .mappingStart, anchor: text(event.data.mapping_start.anchor),
                             tag: text(event.data.mapping_start.tag), line: line, column: column)
        case YAML_MAPPING_END_EVENT: return YAMLEvent(kind: .mappingEnd, line: line, column: column)
        default:
            throw failure("unexpected YAML event", line: line, column: column)
        }
    }

    func failure(_ message: String, line: Int?, column: Int?) -> ManifestError {
        ManifestError(source: sourceName, documentNumber: max(documentNumber, 1), line: line, column: column, message: message)
    }
}
