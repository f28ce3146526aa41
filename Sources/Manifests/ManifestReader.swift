import StrictJSON

/// One Kubernetes object read from a manifest: a document, or one item of a `List` document.
public struct ManifestObject: Sendable, Equatable {
    /// 1-based document the object came from.
    public var documentNumber: Int
    /// 0-based position within the document's `items` when the document is a List; nil otherwise.
    public var itemIndex: Int?
    public var value: JSONValue

    public init(documentNumber: Int, itemIndex: Int?, value: JSONValue) {
        self.documentNumber = documentNumber
        self.itemIndex = itemIndex
        self.value = value
    }
}

/// Reads manifest files as `kubectl` users write them: JSON (one or more values) or YAML (multi-document),
/// each document a single object or a `List` (any `kind` ending in `List` with `items`).
public enum ManifestReader {
    /// Bounds on what a manifest may contain, so a hostile file cannot exhaust memory or the stack.
    public struct Limits: Sendable {
        /// Deepest nesting of mappings and sequences.
        public var maxDepth = 256
        /// Most nodes a document may expand to, counting alias expansions (stops "billion laughs").
        public var maxNodes = 2_000_000
        public init() {}
    }

    /// The documents of `bytes`, in order, each as a JSON value. Empty YAML documents (only comments, or `~`)
    /// are dropped but still counted in document numbers.
    public static func documents(
        in bytes: [UInt8], sourceName: String, limits: Limits = Limits()
    ) throws(ManifestError) -> [(number: Int, value: JSONValue)] {
        if bytes.isEmpty { return [] }
        if looksLikeJSON(bytes) {
            var jsonLimits = JSONParser.Limits()
            jsonLimits.maxDepth = limits.maxDepth
            do {
                let values = try JSONParser.parseSequence(bytes, limits: jsonLimits)
                return values.enumerated().map { (number: $0.offset + 1, value: $0.element) }
            } catch {
                // JSON is also YAML flow syntax a person may write by hand (`{a: b}`); YAML gets a chance, and
                // when it fails too the JSON error is the one that explains the file.
                if let documents = try? YAMLDocumentReader.documents(in: bytes, sourceName: sourceName, limits: limits) {
                    return documents
                }
                throw ManifestError(source: sourceName, documentNumber: documentNumber(atOffset: error.offset, in: bytes),
                                    line: error.line, column: error.column, message: "invalid JSON: \(error.message)")
            }
        }
        return try YAMLDocumentReader.documents(in: bytes, sourceName: sourceName, limits: limits)
    }

    /// The objects of `bytes` in input order, `List`s expanded into their items. A document that is not an
    /// object (a bare string, a sequence), or an item that is not one, is an error naming it.
    public static func objects(
        in bytes: [UInt8], sourceName: String, limits: Limits = Limits()
    ) throws(ManifestError) -> [ManifestObject] {
        var objects: [ManifestObject] = []
        for (number, value) in try documents(in: bytes, sourceName: sourceName, limits: limits) {
            guard case .object(let object) = value else {
                throw ManifestError(source: sourceName, documentNumber: number,
                                    message: "expected a Kubernetes object (a mapping), found \(value.kindName)")
            }
            guard isList(object) else {
                objects.append(ManifestObject(documentNumber: number, itemIndex: nil, value: value))
                continue
            }
            let items: [JSONValue]
            switch object["items"] {
            case .array(let array)?: items = array
            case .null?, nil: items = []
            case let other?:
                throw ManifestError(source: sourceName, documentNumber: number,
                                    message: "items: expected a list, found \(other.kindName)")
            }
            for (index, item) in items.enumerated() {
                guard case .object = item else {
                    throw ManifestError(source: sourceName, documentNumber: number,
                                        message: "items[\(index)]: expected a Kubernetes object, found \(item.kindName)")
                }
                objects.append(ManifestObject(documentNumber: number, itemIndex: index, value: item))
            }
        }
        return objects
    }

    /// kubectl's rule: a `kind` ending in `List` whose `items` is present is a list of objects.
    static func isList(_ object: JSONObject) -> Bool {
        guard let kind = object["kind"]?.stringValue, kind.hasSuffix("List") else { return false }
        return object["items"] != nil
    }

    static func looksLikeJSON(_ bytes: [UInt8]) -> Bool {
        var index = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            case UInt8(ascii: "{"), UInt8(ascii: "["): return true
            default: return false
            }
        }
        return false
    }

    /// Which JSON value (1-based) a byte offset falls in, counting complete top-level values before it.
    static func documentNumber(atOffset offset: Int, in bytes: [UInt8]) -> Int {
        var depth = 0
        var completed = 0
        var inString = false
        var escaped = false
        var index = 0
        let end = min(offset, bytes.count)
        while index < end {
            let byte = bytes[index]
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
            } else {
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { completed += 1 }
                default: break
                }
            }
            index += 1
        }
        return completed + 1
    }
}
