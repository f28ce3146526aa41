#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A JSON text validated once and indexed flat: one node per value, in source order, in a single array, with
/// strings and numbers left in the input bytes until someone reads them. Reading a review this way costs no
/// allocation per value and no `String` per key, which building a `JSONValue` tree does (most of a review's
/// keys and values are never looked at). `JSONParser.parse` and `JSONDocument(parsing:)` accept and reject
/// exactly the same texts with the same errors, and `value(at:)` gives the tree `JSONParser.parse` builds.
///
/// An object's node is followed by its members, each a key (a string node) then the value's nodes; an
/// array's node by its elements' nodes. Every node records where the nodes after its value start, so a
/// reader steps over a value in O(1).
public struct JSONDocument: Sendable {
    /// The kind of a JSON value (booleans split in two, so a node needs no payload for them).
    @frozen
    public enum Kind: UInt8, Sendable {
        case null, `false`, `true`, number, string, array, object

        /// The kind's name as `JSONValue.kindName` spells it, for error messages.
        public var name: String {
            switch self {
            case .null: return "null"
            case .false, .true: return "boolean"
            case .number: return "number"
            case .string: return "string"
            case .array: return "array"
            case .object: return "object"
            }
        }
    }

    /// A position in the document: one value (or one object key).
    @frozen
    public struct Index: Hashable, Sendable {
        @usableFromInline let node: Int
        @inlinable init(node: Int) { self.node = node }
    }

    /// One value. Offsets are into `text`; 32 bits each keep a node at 20 bytes (inputs are limited to 4 GiB).
    @frozen @usableFromInline
    struct Node: Sendable {
        @usableFromInline var kind: Kind
        /// Strings: whether the text holds a backslash escape (its bytes are then not its value).
        @usableFromInline var isEscaped: Bool
        /// Strings: the first byte after the opening quote; numbers: the first character.
        @usableFromInline var start: UInt32
        /// Strings: the closing quote; numbers: the byte after the last character.
        @usableFromInline var end: UInt32
        /// The node after this value and everything inside it.
        @usableFromInline var next: UInt32
        /// Objects: members; arrays: elements.
        @usableFromInline var count: UInt32

        @inlinable
        init(kind: Kind, isEscaped: Bool = false, start: Int = 0, end: Int = 0, next: Int = 0, count: Int = 0) {
            self.kind = kind
            self.isEscaped = isEscaped
            self.start = UInt32(truncatingIfNeeded: start)
            self.end = UInt32(truncatingIfNeeded: end)
            self.next = UInt32(truncatingIfNeeded: next)
            self.count = UInt32(truncatingIfNeeded: count)
        }
    }

    /// The bytes strings and numbers are read from: the parsed input, or (for a document made from a
    /// `JSONValue`) the strings' UTF-8 and the numbers' text, unescaped.
    @usableFromInline let text: [UInt8]
    @usableFromInline let nodes: [Node]

    init(text: [UInt8], nodes: [Node]) {
        self.text = text
        self.nodes = nodes
    }

    /// The top-level value.
    @inlinable public var root: Index { Index(node: 0) }

    @inlinable
    public func kind(_ index: Index) -> Kind { nodes[index.node].kind }

    /// Members of an object, or elements of an array; 0 for anything else.
    @inlinable
    public func count(_ index: Index) -> Int { Int(nodes[index.node].count) }

    // MARK: Objects and arrays

    /// An object's members in source order, duplicates included (a reader applying them in order lets the
    /// last one win, as the apiserver does). Empty for anything but an object. (A reader stepping through many
    /// values reads them through `withView` instead, without an array per object.)
    public func members(of object: Index) -> [Member] { withView { Array($0.members(of: object)) } }

    /// An array's elements in order. Empty for anything but an array.
    public func elements(of array: Index) -> [Index] { withView { Array($0.elements(of: array)) } }

    /// One object member: where its key and its value are.
    @frozen
    public struct Member: Sendable {
        public let key: Index
        public let value: Index
        @inlinable init(key: Index, value: Index) { self.key = key; self.value = value }
    }

    // MARK: Reading by address

    /// Calls `body` with a view of this document that holds its storage by address. A decoder stepping
    /// through many values (the pod decoder) then does so without retaining and releasing the document's
    /// arrays for every object, array and string it visits. The view is valid only inside `body`.
    @inlinable
    public func withView<Result, Failure: Error>(_ body: (View) throws(Failure) -> Result) throws(Failure) -> Result {
        try nodes.withUnsafeBufferPointer { nodes throws(Failure) in
            try text.withUnsafeBufferPointer { text throws(Failure) in try body(View(nodes: nodes, text: text)) }
        }
    }

    /// What `withView` lends: the document's reading functions, on its storage's addresses.
    @frozen
    public struct View {
        @usableFromInline let nodes: UnsafeBufferPointer<Node>
        @usableFromInline let text: UnsafeBufferPointer<UInt8>

        @inlinable
        init(nodes: UnsafeBufferPointer<Node>, text: UnsafeBufferPointer<UInt8>) {
            self.nodes = nodes
            self.text = text
        }

        @inlinable
        public func kind(_ index: Index) -> Kind { nodes[index.node].kind }

        /// As `JSONDocument.members(of:)`.
        @inlinable
        public func members(of object: Index) -> Members {
            let node = nodes[object.node]
            return Members(nodes: nodes, first: object.node + 1, count: node.kind == .object ? Int(node.count) : 0)
        }

        /// As `JSONDocument.elements(of:)`.
        @inlinable
        public func elements(of array: Index) -> Elements {
            let node = nodes[array.node]
            return Elements(nodes: nodes, first: array.node + 1, count: node.kind == .array ? Int(node.count) : 0)
        }

        /// As `JSONDocument.string(_:)`.
        public func string(_ index: Index) -> String {
            let node = nodes[index.node]
            guard node.kind == .string else { return "" }
            let raw = UnsafeBufferPointer(rebasing: text[Int(node.start)..<Int(node.end)])
            if !node.isEscaped {
                // Fewer instructions than String(decoding:as:) for the same result (both validate; the bytes are
                // valid): a short string is built in place, a long one allocated at its size.
                return String(unsafeUninitializedCapacity: raw.count) { buffer in
                    _ = buffer.initialize(from: raw)
                    return raw.count
                }
            }
            return String(decoding: JSONDocument.unescape(raw), as: UTF8.self)
        }

        /// As `JSONDocument.string(_:equals:)`: compares the bytes, building nothing unless the string holds escapes.
        /// Inlinable: compared with a literal, most strings are answered by their length, without a call.
        @inlinable @inline(__always)
        public func string(_ index: Index, equals utf8: UnsafeBufferPointer<UInt8>) -> Bool {
            let node = nodes[index.node]
            guard node.kind == .string else { return false }
            if node.isEscaped { return escapedString(index, equals: utf8) }
            let count = Int(node.end &- node.start)
            guard count == utf8.count else { return false }
            return count == 0 || JSONKeyBytes.bytesEqual(text.baseAddress! + Int(node.start), utf8.baseAddress!, count: count)
        }

        /// Calls `body` with the UTF-8 of the string at `index`, escapes decoded (empty for anything but a string).
        /// Inlinable: a decoder matching a key against the few names one object may hold reads its bytes once,
        /// in place, building nothing unless the key holds escapes.
        @inlinable @inline(__always)
        public func withUTF8<Result>(_ index: Index, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
            let node = nodes[index.node]
            guard node.kind == .string else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
            if node.isEscaped {
                var decoded = string(index)
                return decoded.withUTF8(body)
            }
            // Unchecked: a string node's end is never before its start.
            return body(UnsafeBufferPointer(start: text.baseAddress.unsafelyUnwrapped + Int(node.start),
                                            count: Int(node.end &- node.start)))
        }

        /// The bytes of the string at `index` in place, nil when it holds escapes (or is not a string).
        @inlinable @inline(__always)
        public func plainUTF8(_ index: Index) -> UnsafeBufferPointer<UInt8>? {
            let node = nodes[index.node]
            guard node.kind == .string, !node.isEscaped else { return nil }
            return UnsafeBufferPointer(start: text.baseAddress.unsafelyUnwrapped + Int(node.start),
                                       count: Int(node.end &- node.start))
        }

        /// `string(_:equals:)` for a string holding escapes: compared by its decoded text.
        @usableFromInline
        func escapedString(_ index: Index, equals utf8: UnsafeBufferPointer<UInt8>) -> Bool {
            var decoded = string(index)
            return decoded.withUTF8 { $0.elementsEqual(utf8) }
        }

        /// Whether the string at `index` is exactly `literal` (escapes decoded).
        @inlinable @inline(__always)
        public func string(_ index: Index, equals literal: StaticString) -> Bool {
            string(index, equals: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
        }

        /// As `JSONDocument.numberText(_:)`.
        public func numberText(_ index: Index) -> String {
            let node = nodes[index.node]
            guard node.kind == .number else { return "" }
            return String(decoding: UnsafeBufferPointer(rebasing: text[Int(node.start)..<Int(node.end)]), as: UTF8.self)
        }

        /// As `JSONDocument.int64(_:)`.
        public func int64(_ index: Index) -> Int64? {
            let node = nodes[index.node]
            guard node.kind == .number else { return nil }
            var position = Int(node.start)
            let end = Int(node.end)
            guard position < end else { return nil }
            let isNegative = text[position] == UInt8(ascii: "-")
            if isNegative || text[position] == UInt8(ascii: "+") { position += 1 }
            guard position < end else { return nil }
            if end &- position <= 18 {
                // Up to 18 digits cannot overflow: accumulated without a check per digit.
                var magnitude: Int64 = 0
                while position < end {
                    let digit = text[position] &- UInt8(ascii: "0")
                    guard digit < 10 else { return nil }
                    magnitude = magnitude &* 10 &+ Int64(digit)
                    position &+= 1
                }
                return isNegative ? 0 &- magnitude : magnitude
            }
            var value: Int64 = 0
            while position < end {
                let digit = text[position] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                // A negative number is accumulated negative, so that Int64.min is in range.
                let (shifted, shiftOverflow) = value.multipliedReportingOverflow(by: 10)
                let (next, digitOverflow) = isNegative
                    ? shifted.subtractingReportingOverflow(Int64(digit)) : shifted.addingReportingOverflow(Int64(digit))
                guard !shiftOverflow && !digitOverflow else { return nil }
                value = next
                position += 1
            }
            return value
        }

        /// As `JSONDocument.int32(_:)`.
        public func int32(_ index: Index) -> Int32? { int64(index).flatMap { Int32(exactly: $0) } }

        /// As `JSONDocument.value(at:)`.
        public func value(at index: Index) -> JSONValue {
            let node = nodes[index.node]
            switch node.kind {
            case .null: return .null
            case .false: return .bool(false)
            case .true: return .bool(true)
            case .number: return .number(JSONNumber(text: numberText(index)))
            case .string: return .string(string(index))
            case .array:
                var elements: [JSONValue] = []
                elements.reserveCapacity(Int(node.count))
                for element in self.elements(of: index) { elements.append(value(at: element)) }
                return .array(elements)
            case .object:
                var members: [JSONObject.Member] = []
                members.reserveCapacity(Int(node.count))
                for member in self.members(of: index) {
                    members.append(JSONObject.Member(key: string(member.key), value: value(at: member.value)))
                }
                return .object(JSONObject(members))
            }
        }
    }

    /// An object's members, read through a `View` (valid while it is).
    @frozen
    public struct Members: Sequence, IteratorProtocol {
        @usableFromInline let nodes: UnsafeBufferPointer<Node>
        @usableFromInline var cursor: Int
        @usableFromInline var remaining: Int

        @inlinable
        init(nodes: UnsafeBufferPointer<Node>, first: Int, count: Int) {
            self.nodes = nodes
            self.cursor = first
            self.remaining = count
        }

        @inlinable public var underestimatedCount: Int { remaining }

        @inlinable
        public mutating func next() -> Member? {
            guard remaining > 0 else { return nil }
            // Unchecked: `remaining` is positive, and a node's position is below the nodes' count.
            remaining &-= 1
            let key = cursor
            cursor = Int(nodes[key &+ 1].next)
            return Member(key: Index(node: key), value: Index(node: key &+ 1))
        }
    }

    /// An array's elements, read through a `View` (valid while it is).
    @frozen
    public struct Elements: Sequence, IteratorProtocol {
        @usableFromInline let nodes: UnsafeBufferPointer<Node>
        @usableFromInline var cursor: Int
        @usableFromInline var remaining: Int

        @inlinable
        init(nodes: UnsafeBufferPointer<Node>, first: Int, count: Int) {
            self.nodes = nodes
            self.cursor = first
            self.remaining = count
        }

        @inlinable public var underestimatedCount: Int { remaining }

        @inlinable
        public mutating func next() -> Index? {
            guard remaining > 0 else { return nil }
            remaining &-= 1
            let element = cursor
            cursor = Int(nodes[element].next)
            return Index(node: element)
        }
    }

    /// The value of the **last** member named `key` (as `JSONObject`'s subscript), nil when absent or when
    /// `object` is not an object.
    public func member(_ key: String, of object: Index) -> Index? {
        let objectNode = nodes[object.node]
        guard objectNode.kind == .object else { return nil }
        var key = key
        return key.withUTF8 { key in
            nodes.withUnsafeBufferPointer { nodes in
                text.withUnsafeBufferPointer { text in
                    var found: Index?
                    var cursor = object.node + 1
                    for _ in 0..<Int(objectNode.count) {
                        let keyNode = nodes[cursor]
                        // Most keys differ in length: compare bytes only when the lengths agree.
                        if keyNode.isEscaped {
                            if string(Index(node: cursor), equals: key) { found = Index(node: cursor + 1) }
                        } else if Int(keyNode.end - keyNode.start) == key.count
                                    && (key.count == 0 || JSONKeyBytes.bytesEqual(text.baseAddress! + Int(keyNode.start),
                                                                                   key.baseAddress!, count: key.count)) {
                            found = Index(node: cursor + 1)
                        }
                        cursor = Int(nodes[cursor + 1].next)
                    }
                    return found
                }
            }
        }
    }

    // MARK: Strings and numbers

    /// Whether the string at `index` is exactly `utf8` (escapes decoded).
    public func string(_ index: Index, equals utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        withView { $0.string(index, equals: utf8) }
    }

    /// Whether the string at `index` is exactly `literal`.
    public func string(_ index: Index, equals literal: StaticString) -> Bool {
        string(index, equals: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// The string at `index`, escapes decoded as `JSONParser` decodes them ("" for anything but a string).
    public func string(_ index: Index) -> String { withView { $0.string(index) } }

    /// The number's text as written (`1000`, `-1`, `1.5e3`), "" for anything but a number.
    public func numberText(_ index: Index) -> String { withView { $0.numberText(index) } }

    /// The number at `index` as an `Int64` when `Int64(numberText(index))` would be one (an optional sign, then
    /// only decimal digits, in range: no fraction, no exponent), nil otherwise or for anything but a number.
    /// Read from the bytes: a decoder reading integers builds no `String` unless it reports an error.
    public func int64(_ index: Index) -> Int64? { withView { $0.int64(index) } }

    /// The number at `index` as an `Int32` when `Int32(numberText(index))` would be one, nil otherwise.
    public func int32(_ index: Index) -> Int32? { int64(index).flatMap { Int32(exactly: $0) } }

    /// Decodes the escapes of a validated string's raw bytes. Lone surrogates become U+FFFD, as Go's decoder
    /// (and `JSONParser`) make them.
    static func unescape(_ raw: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(raw.count)
        var position = 0
        func hex4(at offset: Int) -> UInt32 {
            var value: UInt32 = 0
            for byte in raw[offset..<offset + 4] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                default: digit = byte - UInt8(ascii: "A") + 10
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
        while position < raw.count {
            let byte = raw[position]
            guard byte == UInt8(ascii: "\\") else {
                decoded.append(byte)
                position += 1
                continue
            }
            let escaped = raw[position + 1]
            position += 2
            switch escaped {
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(at: position)
                position += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low surrogate to form one scalar.
                    if position + 5 < raw.count, raw[position] == UInt8(ascii: "\\"), raw[position + 1] == UInt8(ascii: "u"),
                       case let low = hex4(at: position + 2), (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        position += 6
                    } else {
                        scalar = 0xFFFD
                    }
                } else if (0xDC00..<0xE000).contains(scalar) {
                    scalar = 0xFFFD
                }
                UTF8.encode(Unicode.Scalar(scalar) ?? "\u{FFFD}") { decoded.append($0) }
            default: decoded.append(escaped)  // `"`, `\`, `/`
            }
        }
        return decoded
    }

    // MARK: Trees

    /// The value at `index` as a tree, equal to what `JSONParser.parse` builds for the same text and limits.
    public func value(at index: Index) -> JSONValue { withView { $0.value(at: index) } }

    /// A document holding `value`: what reads a `JSONDocument` reads a tree the same way.
    public init(_ value: JSONValue) {
        var text: [UInt8] = []
        var nodes: [Node] = []
        func append(_ value: JSONValue) {
            let index = nodes.count
            switch value {
            case .null: nodes.append(Node(kind: .null))
            case .bool(let flag): nodes.append(Node(kind: flag ? .true : .false))
            case .number(let number):
                let start = text.count
                text.append(contentsOf: number.text.utf8)
                nodes.append(Node(kind: .number, start: start, end: text.count))
            case .string(let string): appendString(string)
            case .array(let elements):
                nodes.append(Node(kind: .array, count: elements.count))
                for element in elements { append(element) }
            case .object(let object):
                nodes.append(Node(kind: .object, count: object.members.count))
                for member in object.members {
                    appendString(member.key)
                    append(member.value)
                }
            }
            nodes[index].next = UInt32(truncatingIfNeeded: nodes.count)
        }
        func appendString(_ string: String) {
            let start = text.count
            text.append(contentsOf: string.utf8)
            nodes.append(Node(kind: .string, start: start, end: text.count, next: nodes.count + 1))
        }
        append(value)
        self.init(text: text, nodes: nodes)
    }
}

/// Object keys compared by their bytes, without building a `String`: a cheap hash for the parser's tables of
/// dropped names, and a short comparison for the decoders' matchers (which compare a key with the few names its
/// object may hold, by length first).
public enum JSONKeyBytes {
    /// A cheap hash of the length and three bytes, for the parser's tables of names.
    @inlinable @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let count = bytes.count
        var value = count &* 0x9E37_79B1
        value = (value ^ Int(bytes[0])) &* 0x85EB_CA6B
        value = (value ^ Int(bytes[count - 1])) &* 0xC2B2_AE35
        value = (value ^ Int(bytes[count >> 1])) &* 0x27D4_EB2F
        return value ^ (value >> 15)
    }

    /// Whether `count` (at least 1) bytes at `a` and `b` are equal. Compared a word at a time, the last word
    /// overlapping the one before, never reading outside either range: names are short, and a call to
    /// `memcmp` cost more than the comparison.
    @inlinable @inline(__always)
    public static func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, count: Int) -> Bool {
        let a = UnsafeRawPointer(a), b = UnsafeRawPointer(b)
        @inline(__always) func equal<Word: FixedWidthInteger>(at offset: Int, _: Word.Type) -> Bool {
            a.loadUnaligned(fromByteOffset: offset, as: Word.self) == b.loadUnaligned(fromByteOffset: offset, as: Word.self)
        }
        if count >= 8 {
            var offset = 0
            while offset < count &- 8 {
                guard equal(at: offset, UInt64.self) else { return false }
                offset &+= 8
            }
            return equal(at: count &- 8, UInt64.self)
        }
        if count >= 4 { return equal(at: 0, UInt32.self) && equal(at: count &- 4, UInt32.self) }
        if count >= 2 { return equal(at: 0, UInt16.self) && equal(at: count &- 2, UInt16.self) }
        return equal(at: 0, UInt8.self)
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Whether these bytes (a key's, from `JSONDocument.View.withUTF8` or `plainUTF8`) are `name`: the length
    /// first, then the bytes a word at a time. Inlined where a decoder matches a key against the few names its
    /// object may hold, the literal's length folds into the comparison.
    @inlinable @inline(__always)
    public func isName(_ name: StaticString) -> Bool {
        let length = name.utf8CodeUnitCount
        return count == length
            && (length == 0 || JSONKeyBytes.bytesEqual(baseAddress.unsafelyUnwrapped, name.utf8Start, count: length))
    }

    /// Whether these bytes start with `prefix`, compared as `isName` compares.
    @inlinable @inline(__always)
    public func hasPrefix(_ prefix: StaticString) -> Bool {
        let length = prefix.utf8CodeUnitCount
        return count >= length
            && (length == 0 || JSONKeyBytes.bytesEqual(baseAddress.unsafelyUnwrapped, prefix.utf8Start, count: length))
    }
}
