/// A parsed JSON value. Numbers keep their source text so that int64 fields (runAsUser, ports) are read
/// exactly, never through a Double.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// A JSON number as written in the source (already validated against the JSON grammar).
public struct JSONNumber: Sendable, Equatable, CustomStringConvertible {
    /// The number's text, e.g. `1000`, `-1`, `1.5e3`.
    public let text: String

    public init(text: String) { self.text = text }
    public init(_ value: Int64) { self.text = String(value) }
    public init(_ value: Int) { self.text = String(value) }

    /// The value as an integer when the text is an integer that fits in Int64 (`1.0` and `1e3` are not).
    public var int64: Int64? { Int64(text) }
    /// The value as a Double (lossy for large integers).
    public var double: Double? { Double(text) }
    public var description: String { text }
}

/// A JSON object: members in source order. When a key repeats, the **last** occurrence wins, as the
/// Kubernetes apiserver's Go decoder does, so the webhook sees the same object the apiserver stores.
public struct JSONObject: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONValue
        public init(key: String, value: JSONValue) { self.key = key; self.value = value }
    }

    public var members: [Member]

    public init(_ members: [Member] = []) { self.members = members }

    public init(_ pairs: KeyValuePairs<String, JSONValue>) {
        self.members = pairs.map { Member(key: $0.key, value: $0.value) }
    }

    /// The value for `key` (the last one when duplicated), nil when absent.
    public subscript(key: String) -> JSONValue? {
        get {
            var index = members.endIndex
            while index > members.startIndex {
                index -= 1
                if members[index].key == key { return members[index].value }
            }
            return nil
        }
        set {
            members.removeAll { $0.key == key }
            if let newValue { members.append(Member(key: key, value: newValue)) }
        }
    }

    /// Keys in source order, each once (its last occurrence decides its value, its first its position).
    public var keys: [String] {
        var seen = Set<String>()
        var result: [String] = []
        for member in members where seen.insert(member.key).inserted { result.append(member.key) }
        return result
    }

    public var isEmpty: Bool { members.isEmpty }
}

extension JSONValue {
    /// The object, or nil for any other kind.
    public var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }
    /// The array, or nil for any other kind.
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    /// The string, or nil for any other kind.
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    /// The bool, or nil for any other kind.
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    /// The number, or nil for any other kind.
    public var numberValue: JSONNumber? { if case .number(let n) = self { return n }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }

    /// Member lookup on an object; nil for absent keys and for non-objects.
    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// The JSON kind's name, for error messages ("string", "object", ...).
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}
