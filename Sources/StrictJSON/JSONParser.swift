#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A strict RFC 8259 JSON reader over bytes. It is on the request path of every admission review, so it is
/// written as security code: every byte is validated (grammar, UTF-8, control characters, escapes), nesting is
/// bounded, and errors say where and what. It does not use Foundation: `JSONSerialization` bridges `1` to `true`,
/// which must never decide a security field, and `JSONDecoder` costs ~15x more per review (FIELD-NOTES.md).
public enum JSONParser {
    /// Bounds on what the parser accepts.
    public struct Limits: Sendable {
        /// The deepest nesting of arrays and objects accepted. Kubernetes objects stay far below this;
        /// the bound keeps recursion (and stack use) small whatever the input.
        public var maxDepth: Int = 256
        /// Object members with these names whose value is an object or an array are validated exactly as
        /// everything else, then dropped instead of built: a reader that never looks at them (the webhook and
        /// `managedFields`, `env`, `status`...) does not pay for their allocations. String-valued members are
        /// always kept, so a label or annotation that happens to share a name is never lost.
        public var droppedContainerMembers = DroppedMembers()
        /// Strings the input is known to repeat (the keys of a schema): read without escapes, they come from
        /// this table instead of being built and validated one by one.
        public var knownStrings = StringTable()
        public init() {}
        public init(maxDepth: Int) { self.maxDepth = maxDepth }
    }

    /// A fixed set of strings, found by their bytes: open addressing on a cheap hash of length and three bytes.
    public struct StringTable: Sendable {
        private let storage: [UInt8]
        private let slotStart: [Int32]
        private let slotLength: [Int32]  // -1: empty
        private let slotString: [String]
        private let mask: Int

        public init(_ strings: [String] = []) {
            let unique = Array(Set(strings.filter { !$0.utf8.isEmpty && $0.utf8.count <= 64 }))
            var capacity = 16
            while capacity < unique.count * 4 { capacity *= 2 }
            var storage: [UInt8] = []
            var starts = [Int32](repeating: 0, count: capacity)
            var lengths = [Int32](repeating: -1, count: capacity)
            var values = [String](repeating: "", count: capacity)
            for string in unique {
                let bytes = Array(string.utf8)
                var slot = bytes.withUnsafeBufferPointer { Self.hash($0) } & (capacity - 1)
                while lengths[slot] >= 0 { slot = (slot + 1) & (capacity - 1) }
                starts[slot] = Int32(storage.count)
                lengths[slot] = Int32(bytes.count)
                values[slot] = string
                storage.append(contentsOf: bytes)
            }
            self.storage = storage
            self.slotStart = starts
            self.slotLength = lengths
            self.slotString = values
            self.mask = capacity - 1
            self.isEmpty = unique.isEmpty
        }

        public let isEmpty: Bool

        /// The same cheap hash as the document's key table (length, first, middle and last byte).
        @inline(__always)
        static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int { JSONKeyBytes.hash(bytes) }

        /// The table's string with exactly these bytes, if any.
        @inline(__always)
        func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
            guard !isEmpty, bytes.count > 0, bytes.count <= 64 else { return nil }
            var slot = Self.hash(bytes) & mask
            return storage.withUnsafeBufferPointer { stored in
                while true {
                    let length = Int(slotLength[slot])
                    if length < 0 { return nil }
                    if length == bytes.count
                        && memcmp(stored.baseAddress! + Int(slotStart[slot]), bytes.baseAddress!, length) == 0 {
                        return slotString[slot]
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    /// A set of member names, looked up by their raw bytes: open addressing on `JSONKeyBytes`' cheap hash,
    /// so a key that is none of them (most keys of a review) costs a hash and an empty slot.
    public struct DroppedMembers: Sendable {
        private struct Slot {
            /// Where the name's bytes start in `storage`; the slot is empty when `length` is 0.
            var start: Int32
            var length: Int32
        }
        private let storage: [UInt8]
        private let slots: [Slot]
        private let mask: Int
        /// `""` is one of the names (kept out of the table: the hash reads a first byte).
        private let hasEmptyName: Bool
        /// For each length (63: 63 or more), at 2 * length a bit per first byte (its low six bits) of the names
        /// of that length and at 2 * length + 1 a bit per last byte: most keys share a length, a first byte and
        /// a last byte with no name and are answered by `mayContain`, inlined in the scanner, without a call.
        private let filter: [UInt64]

        public init(_ names: [String] = []) {
            isEmpty = names.isEmpty
            hasEmptyName = names.contains("")
            guard !names.isEmpty else {
                // The default of every `Limits()`: nothing to look up, nothing to allocate.
                (storage, slots, mask, filter) = ([], [], 0, [])
                return
            }
            let unique = Array(Set(names))
            var capacity = 16
            while capacity < unique.count * 4 { capacity *= 2 }
            var storage: [UInt8] = []
            var slots = [Slot](repeating: Slot(start: 0, length: 0), count: capacity)
            var filter = [UInt64](repeating: 0, count: 128)
            for name in unique where !name.utf8.isEmpty {
                let bytes = Array(name.utf8)
                filter[2 * min(bytes.count, 63)] |= 1 << (bytes[0] & 63)
                filter[2 * min(bytes.count, 63) + 1] |= 1 << (bytes[bytes.count - 1] & 63)
                var slot = bytes.withUnsafeBufferPointer { JSONKeyBytes.hash($0) } & (capacity - 1)
                while slots[slot].length > 0 { slot = (slot + 1) & (capacity - 1) }
                slots[slot] = Slot(start: Int32(storage.count), length: Int32(bytes.count))
                storage.append(contentsOf: bytes)
            }
            self.storage = storage
            self.slots = slots
            self.mask = capacity - 1
            self.filter = filter
        }

        /// Stored, not derived: every parse asks.
        public let isEmpty: Bool

        @inline(__always)
        fileprivate func contains(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
            mayContain(key) && (key.count == 0 || isListed(key))
        }

        /// False when `key` is none of the names; true when it may be one (`isListed` decides).
        @inline(__always)
        fileprivate func mayContain(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
            !isEmpty && mayContainListed(key)
        }

        /// `mayContain` for a list known not to be empty (the scanner tests `dropsAny` first): `filter` has its
        /// 128 words.
        @inline(__always)
        fileprivate func mayContainListed(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
            guard key.count > 0 else { return hasEmptyName }
            return filter.withUnsafeBufferPointer { filter in
                let row = min(key.count, 63) &* 2
                return (filter[row] >> (key[0] & 63)) & (filter[row &+ 1] >> (key[key.count &- 1] & 63)) & 1 != 0
            }
        }

        /// Whether `key`, which is not empty, is one of the names (after `mayContain`).
        @inline(__always)
        fileprivate func isListed(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
            var slot = JSONKeyBytes.hash(key) & mask
            return slots.withUnsafeBufferPointer { slots in
                storage.withUnsafeBufferPointer { stored in
                    while true {
                        let candidate = slots[slot]
                        if candidate.length == 0 { return false }
                        if Int(candidate.length) == key.count
                            && JSONKeyBytes.bytesEqual(stored.baseAddress! + Int(candidate.start), key.baseAddress!, count: key.count) {
                            return true
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
    }

    /// Parses exactly one JSON value; anything but whitespace after it is an error.
    public static func parse(_ bytes: [UInt8], limits: Limits = Limits()) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBufferPointer { buffer in
            var reader = Reader(buffer, limits: limits)
            do throws(JSONParseError) {
                reader.skipWhitespace()
                let value = try reader.parseValue(depth: 0)
                reader.skipWhitespace()
                if reader.position != buffer.count {
                    throw reader.error("unexpected data after the JSON value")
                }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Parses a JSON text given as a string.
    public static func parse(_ text: String, limits: Limits = Limits()) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), limits: limits)
    }

    /// Parses whitespace-separated JSON values (a stream of documents, JSON Lines). Empty input gives none.
    public static func parseSequence(_ bytes: [UInt8], limits: Limits = Limits()) throws(JSONParseError) -> [JSONValue] {
        let result: Result<[JSONValue], JSONParseError> = bytes.withUnsafeBufferPointer { buffer in
            var reader = Reader(buffer, limits: limits)
            var values: [JSONValue] = []
            do throws(JSONParseError) {
                reader.skipWhitespace()
                while reader.position < buffer.count {
                    values.append(try reader.parseValue(depth: 0))
                    let end = reader.position
                    reader.skipWhitespace()
                    if reader.position < buffer.count && reader.position == end && !isContainerEnd(buffer[end - 1]) {
                        // Scalars must be separated, or `1 2` and `12` would read alike.
                        throw reader.error("values in a sequence must be separated by whitespace")
                    }
                }
                return .success(values)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private static func isContainerEnd(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]")
    }
}

/// Where and why a JSON text was rejected.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset of the problem (0-based).
    public let offset: Int
    /// 1-based line of the problem.
    public let line: Int
    /// 1-based column (in bytes) of the problem.
    public let column: Int
    /// What is wrong.
    public let message: String

    public init(offset: Int, line: Int, column: Int, message: String) {
        self.offset = offset
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "invalid JSON at line \(line), column \(column): \(message)" }
}

private let quote = UInt8(ascii: "\"")
private let backslash = UInt8(ascii: "\\")

/// The cursor over one input buffer. Lives only inside `withUnsafeBufferPointer`.
private struct Reader {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    let dropped: JSONParser.DroppedMembers
    let dropsAny: Bool
    /// The tree parser's known strings; nil for the document scanner, which builds no string (and so does
    /// not copy, retain and release the table's arrays on every parse).
    let known: JSONParser.StringTable?
    var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>, limits: borrowing JSONParser.Limits, buildsStrings: Bool = true) {
        self.bytes = bytes
        self.maxDepth = limits.maxDepth
        self.dropped = limits.droppedContainerMembers
        self.dropsAny = !limits.droppedContainerMembers.isEmpty
        self.known = buildsStrings ? limits.knownStrings : nil
    }

    // The error builders (`error`, `describeByte`, `separatorError`, `unexpected`, `depthError`) are `mutating`
    // though they change nothing: a non-mutating method called from a mutating one is handed a copy of the
    // whole reader (128 bytes), and each place that built an error had a stack slot of its own for that copy
    // in the recursive functions' frames (most of scanValue's 0x700 bytes). A mutating one is passed `self`'s
    // address.

    @inline(never)
    mutating func error(_ message: String, at offset: Int? = nil) -> JSONParseError {
        let offset = min(offset ?? position, bytes.count)
        var line = 1
        var lineStart = 0
        for index in 0..<offset where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        return JSONParseError(offset: offset, line: line, column: offset - lineStart + 1, message: message)
    }

    mutating func describeByte(at offset: Int) -> String {
        guard offset < bytes.count else { return "end of input" }
        let byte = bytes[offset]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16, uppercase: true)
    }

    @inline(__always)
    mutating func skipWhitespace() { position = whitespaceEnd(from: position) }

    /// The first offset from `offset` on that is not whitespace.
    @inline(__always)
    func whitespaceEnd(from offset: Int) -> Int {
        // One comparison when there is none, as between the tokens of the compact JSON the apiserver sends.
        guard offset < bytes.count, bytes[offset] <= 0x20 else { return offset }
        return whitespaceRunEnd(from: offset)
    }

    func whitespaceRunEnd(from offset: Int) -> Int {
        var at = offset
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x0A, 0x0D, 0x09: at += 1
            default: return at
            }
        }
        return at
    }

    /// Skips the container at the cursor if `key` names a dropped member; whether it did. Out of line: asked
    /// only for object- and array-valued members whose key passed `mayContain`, it stays out of the scanner's
    /// hot loop.
    @inline(never)
    mutating func skipIfDropped(key: Range<Int>, depth: Int) throws(JSONParseError) -> Bool {
        let name = UnsafeBufferPointer(rebasing: bytes[key])
        guard name.count == 0 || dropped.isListed(name) else { return false }
        // The container's members or elements are skipped here, not by a call to `skipValue` for it.
        position = try skipContainer(opening: bytes[position], depth: depth)
        return true
    }

    /// Whether the byte at `offset` is `byte` (false at the end of the input).
    @inline(__always)
    func isAt(_ byte: UInt8, _ offset: Int) -> Bool { offset < bytes.count && bytes[offset] == byte }

    /// The byte at `offset`, or 0 at the end of the input: 0 is never a byte the grammar expects where the
    /// scanner peeks, so a test for the expected byte fails at the end as on a wrong byte, and the error, built
    /// from the offset, tells the two apart.
    @inline(__always)
    func peek(_ offset: Int) -> UInt8 { offset < bytes.count ? bytes[offset] : 0 }

    /// The first offset from `offset` on that is not whitespace, and its byte (`peek`): the scanner's next token,
    /// read once, not tested for the end of the input again and then loaded again.
    @inline(__always)
    func token(from offset: Int) -> (at: Int, byte: UInt8) {
        let byte = peek(offset)
        // One comparison when there is no whitespace, as between the tokens of the compact JSON the apiserver sends.
        if byte > 0x20 { return (offset, byte) }
        let at = whitespaceRunEnd(from: offset)
        return (at, peek(at))
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard position < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case quote: return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected \(describeByte(at: position)), expected a value")
        }
    }

    /// Whether `literal` (`true`, `false` or `null`) is at `start`, whose byte is its first.
    @inline(__always)
    func isLiteral(_ literal: StaticString, at start: Int) -> Bool {
        let count = literal.utf8CodeUnitCount
        // The literals are four or five bytes: the first four compared as one word, then the fifth.
        return bytes.count - start >= count
            && UnsafeRawPointer(bytes.baseAddress.unsafelyUnwrapped + start).loadUnaligned(as: UInt32.self)
                == UnsafeRawPointer(literal.utf8Start).loadUnaligned(as: UInt32.self)
            && (count == 4 || bytes[start + 4] == literal.utf8Start[4])
    }

    /// Moves past `literal` (`true`, `false` or `null`), whose first byte is at the cursor.
    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        guard isLiteral(literal, at: position) else { throw error("invalid literal, expected \(literal)", at: position) }
        position += literal.utf8CodeUnitCount
    }

    // The scanner's and the skipper's fast paths for the scalars a review has dozens of: inlined, without a
    // throw of their own (anything else, errors included, is left to the functions above, from the value's
    // start), so they add nothing to the frame of the recursive functions they are inlined into: that frame,
    // times `maxDepth`, is the stack a hostile nesting can take.

    /// `expectLiteral`, with the literal that is there passed inline.
    @inline(__always)
    mutating func passLiteral(_ literal: StaticString) throws(JSONParseError) {
        if isLiteral(literal, at: position) {
            position &+= literal.utf8CodeUnitCount
        } else {
            try expectLiteral(literal)
        }
    }

    /// `scanNumber`, with an integer (no fraction, no exponent) passed inline.
    @inline(__always)
    mutating func passNumber() throws(JSONParseError) {
        var at = position
        if bytes[at] == UInt8(ascii: "-") { at &+= 1 }
        if at < bytes.count, bytes[at] &- UInt8(ascii: "1") < 9 {
            at &+= 1
            while at < bytes.count, isDigit(bytes[at]) { at &+= 1 }
        } else if at < bytes.count, bytes[at] == UInt8(ascii: "0"), at &+ 1 == bytes.count || !isDigit(bytes[at &+ 1]) {
            at &+= 1
        } else {
            return try scanNumber()
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") || bytes[at] | 0x20 == UInt8(ascii: "e") {
            return try scanNumber()
        }
        position = at
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
        position += 1  // {
        skipWhitespace()
        if position < bytes.count && bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(JSONObject([]))
        }
        var members: [JSONObject.Member] = []
        members.reserveCapacity(8)  // most Kubernetes objects have few members: one allocation, no regrowth
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == quote else {
                throw error("unexpected \(describeByte(at: position)), expected a string key")
            }
            let keyStart = position + 1
            let key = try parseString()
            let keyEnd = position - 1
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                throw error("unexpected \(describeByte(at: position)), expected ':' after an object key")
            }
            position += 1
            skipWhitespace()
            if dropsAny, position < bytes.count, bytes[position] == UInt8(ascii: "{") || bytes[position] == UInt8(ascii: "["),
               dropped.contains(UnsafeBufferPointer(rebasing: bytes[keyStart..<keyEnd])) {
                try skipValue(depth: depth)
                skipWhitespace()
                guard position < bytes.count else { throw error("unexpected end of input inside an object") }
                switch bytes[position] {
                case UInt8(ascii: ","): position += 1; continue
                case UInt8(ascii: "}"):
                    position += 1
                    return .object(JSONObject(members))
                default: throw error("unexpected \(describeByte(at: position)), expected ',' or '}'")
                }
            }
            let value = try parseValue(depth: depth)
            members.append(JSONObject.Member(key: key, value: value))
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of input inside an object") }
            switch bytes[position] {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                return .object(JSONObject(members))
            default: throw error("unexpected \(describeByte(at: position)), expected ',' or '}'")
            }
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
        position += 1  // [
        skipWhitespace()
        if position < bytes.count && bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array([])
        }
        var elements: [JSONValue] = []
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of input inside an array") }
            switch bytes[position] {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                return .array(elements)
            default: throw error("unexpected \(describeByte(at: position)), expected ',' or ']'")
            }
        }
    }

    // MARK: Validating without building (dropped members)

    /// Checks one value against the same grammar as `parseValue` and moves past it, building nothing.
    /// Like the document scanner, it keeps the cursor in a local, looks at the byte expected next before
    /// skipping whitespace, and skips string members and elements without another level of recursion.
    /// Steps past a byte just read: `&+`.
    mutating func skipValue(depth: Int) throws(JSONParseError) {
        guard position < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[position] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            position = try skipContainer(opening: bytes[position], depth: depth)
        case quote: position = try skipString(at: position)
        case UInt8(ascii: "t"): try passLiteral("true")
        case UInt8(ascii: "f"): try passLiteral("false")
        case UInt8(ascii: "n"): try passLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try passNumber()
        default: throw unexpected(at: position, expected: "a value")
        }
    }

    /// Checks the object or array whose `opening` byte is at the cursor and returns the offset after it, building
    /// nothing (`skipValue`'s containers, and a dropped member's value, skipped without a call for it).
    @inline(__always)
    mutating func skipContainer(opening: UInt8, depth: Int) throws(JSONParseError) -> Int {
        // `&+` (here and in `scanValue`): a depth counts levels of the input up from 0, never near `Int.max`.
        guard depth &+ 1 <= maxDepth else { throw depthError() }
        var (at, byte) = token(from: position &+ 1)
        if opening == UInt8(ascii: "{") {
            if byte == UInt8(ascii: "}") { return at &+ 1 }
            while true {
                // Whitespace before the key is skipped: after '{' above, after ',' below.
                guard byte == quote else { throw unexpected(at: at, expected: "a string key") }
                at = try skipString(at: at)
                (at, byte) = try passColon(at: at)
                at = try skipNested(at: at, byte, depth: depth &+ 1)
                let (next, nextByte, closed) = try passSeparator(at: at, closing: UInt8(ascii: "}"), inside: "object")
                (at, byte) = (next, nextByte)
                if closed { return at }
            }
        }
        if byte == UInt8(ascii: "]") { return at &+ 1 }
        while true {
            // Whitespace before the element is skipped: after '[' above, after ',' below.
            at = try skipNested(at: at, byte, depth: depth &+ 1)
            let (next, nextByte, closed) = try passSeparator(at: at, closing: UInt8(ascii: "]"), inside: "array")
            (at, byte) = (next, nextByte)
            if closed { return at }
        }
    }

    /// Skips the member value or element at `offset`, whose byte (`peek`) is `byte`, and returns the offset
    /// after it: a string here, anything else by `skipValue`.
    @inline(__always)
    mutating func skipNested(at offset: Int, _ byte: UInt8, depth: Int) throws(JSONParseError) -> Int {
        if byte == quote { return try skipString(at: offset) }
        position = offset
        try skipValue(depth: depth)
        return position
    }

    /// Validates the string whose opening quote is at `start` and returns the offset after it: plain ASCII text
    /// by the inlined fast path, anything else by `skipGeneralString`.
    @inline(__always)
    mutating func skipString(at start: Int) throws(JSONParseError) -> Int {
        if let end = plainStringEnd(from: start &+ 1) { return end &+ 1 }
        position = start
        try skipGeneralString()
        return position
    }

    /// After an object key (of the scanner or the skipper): the offset after the `:` that must follow it (the
    /// byte expected is looked at before skipping whitespace) and after the whitespace that follows it, and the
    /// byte there (`peek`), which the caller tests without reading it again.
    /// `mutating` (as `passSeparator`) though it moves nothing: called from the scanner's mutating functions, a
    /// non-mutating method that can throw borrows a copy of the whole reader, ~8k more instructions per review.
    @inline(__always)
    mutating func passColon(at offset: Int) throws(JSONParseError) -> (at: Int, byte: UInt8) {
        var at = offset
        if peek(at) != UInt8(ascii: ":") {
            at = whitespaceEnd(from: at)
            guard isAt(UInt8(ascii: ":"), at) else { throw unexpected(at: at, expected: "':' after an object key") }
        }
        return token(from: at &+ 1)
    }

    /// After a member or an element (of the scanner or the skipper) at `offset`: the offset past the `,` and the
    /// whitespace after it and the byte there (`peek`; closed: false, another one follows), or past `closing`
    /// (byte: 0, closed: true, the container ends); anything else is an error naming what was expected. The
    /// byte expected next is looked at before skipping whitespace.
    @inline(__always)
    mutating func passSeparator(
        at offset: Int, closing: UInt8, inside container: StaticString
    ) throws(JSONParseError) -> (next: Int, byte: UInt8, closed: Bool) {
        var (at, byte) = token(from: offset)
        if byte == UInt8(ascii: ",") {
            let (next, nextByte) = token(from: at &+ 1)
            return (next, nextByte, false)
        }
        guard byte == closing else { throw separatorError(at: at, closing: closing, inside: container) }
        at &+= 1
        return (at, 0, true)
    }

    // The errors of the scanner's and the skipper's loops are built out of line: the hot functions keep a
    // small frame and nothing live for them.

    @inline(never)
    mutating func separatorError(at offset: Int, closing: UInt8, inside container: StaticString) -> JSONParseError {
        guard offset < bytes.count else { return error("unexpected end of input inside an \(container)", at: offset) }
        return unexpected(at: offset, expected: "',' or '\(Character(Unicode.Scalar(closing)))'")
    }

    /// "unexpected <what is at offset>, expected <what>".
    @inline(never)
    mutating func unexpected(at offset: Int, expected: String) -> JSONParseError {
        error("unexpected \(describeByte(at: offset)), expected \(expected)", at: offset)
    }

    @inline(never)
    mutating func depthError() -> JSONParseError { error("nesting deeper than \(maxDepth) levels") }

    /// Validates a string (escapes, control characters, UTF-8) and moves past it, eight bytes at a time
    /// where nothing needs a closer look.
    mutating func skipGeneralString() throws(JSONParseError) {
        let start = position
        position += 1
        var segmentStart = position
        var seen: UInt64 = 0  // every byte of the segment OR-ed together: bit 7 set means non-ASCII
        let highs: UInt64 = 0x8080_8080_8080_8080
        while true {
            skipPlainWords(orInto: &seen)
            guard position < bytes.count else { throw error("unterminated string", at: start) }
            let byte = bytes[position]
            if byte == quote || byte == backslash {
                if seen & highs != 0 && !isValidUTF8(UnsafeBufferPointer(rebasing: bytes[segmentStart..<position])) {
                    throw error("invalid UTF-8 in string", at: segmentStart)
                }
                position += 1
                if byte == quote { return }
                guard position < bytes.count else { throw error("unterminated string", at: start) }
                switch bytes[position] {
                case quote, backslash, UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                     UInt8(ascii: "r"), UInt8(ascii: "t"):
                    position += 1
                case UInt8(ascii: "u"):
                    position += 1
                    _ = try parseHex4()
                default:
                    throw error("invalid escape '\\\(Character(Unicode.Scalar(bytes[position])))' in string", at: position - 1)
                }
                segmentStart = position
                seen = 0
                continue
            }
            if byte < 0x20 { throw error("control character in string (must be escaped)") }
            seen |= UInt64(byte)
            position += 1
        }
    }

    /// Well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF), as `String(validating:)` requires.
    func isValidUTF8(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        let count = utf8.count
        while index < count {
            let lead = utf8[index]
            if lead < 0x80 { index += 1; continue }
            func continuation(_ offset: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
                index + offset < count && range.contains(utf8[index + offset])
            }
            switch lead {
            case 0xC2...0xDF:
                guard continuation(1) else { return false }
                index += 2
            case 0xE0:
                guard continuation(1, 0xA0...0xBF), continuation(2) else { return false }
                index += 3
            case 0xE1...0xEC, 0xEE...0xEF:
                guard continuation(1), continuation(2) else { return false }
                index += 3
            case 0xED:
                guard continuation(1, 0x80...0x9F), continuation(2) else { return false }
                index += 3
            case 0xF0:
                guard continuation(1, 0x90...0xBF), continuation(2), continuation(3) else { return false }
                index += 4
            case 0xF1...0xF3:
                guard continuation(1), continuation(2), continuation(3) else { return false }
                index += 4
            case 0xF4:
                guard continuation(1, 0x80...0x8F), continuation(2), continuation(3) else { return false }
                index += 4
            default:
                return false
            }
        }
        return true
    }

    /// Moves past a number, checking the JSON number grammar.
    mutating func scanNumber() throws(JSONParseError) {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, isDigit(bytes[position]) else { throw error("invalid number: expected a digit", at: position) }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count, isDigit(bytes[position]) { throw error("invalid number: leading zero", at: start) }
        } else {
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else { throw error("invalid number: expected a digit after '.'") }
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < bytes.count, isDigit(bytes[position]) else { throw error("invalid number: expected a digit in the exponent") }
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = position
        try scanNumber()
        // The grammar admits ASCII only, so this cannot fail.
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        return JSONNumber(text: text)
    }

    @inline(__always)
    func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    /// Validates a string as the document scanner does (`scanStringContent`), then builds it: a known
    /// Kubernetes string from the table, plain text as it is, escapes decoded by `JSONDocument.unescape`.
    mutating func parseString() throws(JSONParseError) -> String {
        let (contentStart, end, isEscaped) = try scanStringContent()
        let raw = UnsafeBufferPointer(rebasing: bytes[contentStart..<end])
        if isEscaped { return String(decoding: JSONDocument.unescape(raw), as: UTF8.self) }
        // Validated UTF-8 already: decoding repairs nothing.
        return known?.lookup(raw) ?? String(decoding: raw, as: UTF8.self)
    }

    /// Inside a string: moves eight bytes at a time past bytes that are not a quote, a backslash or a control
    /// character, stopping exactly at the first one (or where fewer than eight bytes are left), and ORs the
    /// bytes passed into `seen` (bit 7 of any byte set: non-ASCII was seen).
    @inline(__always)
    mutating func skipPlainWords(orInto seen: inout UInt64) {
        guard let base = bytes.baseAddress else { return }
        while bytes.count - position >= 8 {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
            let attention = Self.attentionMask(word)
            if attention != 0 {
                // The lowest flagged byte is exactly the first quote, backslash or control byte.
                let skip = attention.trailingZeroBitCount >> 3
                seen |= skip == 0 ? 0 : word & (~UInt64(0) >> (64 - skip * 8))
                position += skip
                return
            }
            seen |= word
            position += 8
        }
    }

    /// The fast path for the strings a review is mostly made of (keys, names, plain values): the closing quote
    /// of the string whose text starts at `contentStart`, when that text is ASCII without escapes or control
    /// characters (nothing to check but where it ends) and the quote is found sixteen bytes at a time (eight,
    /// near the end of the input) before the end. Nil otherwise: the string is then read by the general
    /// scanner, from its start.
    @inline(__always)
    func plainStringEnd(from contentStart: Int) -> Int? {
        // Called at an opening quote: the buffer is not empty, so it has an address.
        let base = bytes.baseAddress.unsafelyUnwrapped
        var cursor = contentStart
        let lastBlock = bytes.count &- 16
        while cursor <= lastBlock {
            let stops = Self.stopFlags(UnsafeRawPointer(base + cursor).loadUnaligned(as: ByteBlock.Lanes.self))
            if stops != 0 {
                let end = cursor &+ stops.trailingZeroBitCount
                return base[end] == quote ? end : nil
            }
            cursor &+= 16
        }
        let lastWord = bytes.count &- 8
        while cursor <= lastWord {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + cursor).loadUnaligned(as: UInt64.self))
            // The lowest flag is exactly the first quote, backslash, control byte or non-ASCII byte.
            let stops = Self.attentionMask(word) | (word & 0x8080_8080_8080_8080)
            if stops != 0 {
                let end = cursor &+ (stops.trailingZeroBitCount &>> 3)
                return base[end] == quote ? end : nil
            }
            cursor &+= 8
        }
        return nil
    }

    /// Bit i set when byte i of `block` ends the fast path: a quote, a backslash, a control character or a
    /// non-ASCII byte (the first three are one signed comparison).
    @inline(__always)
    static func stopFlags(_ block: ByteBlock.Lanes) -> UInt32 {
        // Compared lane by lane with whole vectors (comparisons with a scalar are not vectorized). Bit 1 flipped,
        // a quote (0x22) is 0x20, control characters stay below 0x20 and non-ASCII bytes negative, and no other
        // byte ends below 0x21 (0x20 becomes 0x22, 0x23 becomes 0x21): one signed comparison flags the three.
        let signed = unsafeBitCast(block ^ ByteBlock.Lanes(repeating: 0x02), to: SIMD16<Int8>.self)
        let flagged = (signed .< SIMD16<Int8>(repeating: 0x21))
            .| (block .== ByteBlock.Lanes(repeating: backslash))
        return ByteBlock.laneBits(unsafeBitCast(flagged, to: ByteBlock.Lanes.self))
    }

    /// High bits flag the bytes of `word` that are a quote, a backslash or below 0x20. The lowest flag is
    /// always exact (borrows only run upward), so its position is the first such byte; zero means none.
    @inline(__always)
    static func attentionMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ (ones &* UInt64(quote))
        let backslashes = word ^ (ones &* UInt64(backslash))
        let hasQuote = (quotes &- ones) & ~quotes & highs
        let hasBackslash = (backslashes &- ones) & ~backslashes & highs
        let hasControl = (word &- ones &* 0x20) & ~word & highs
        return hasQuote | hasBackslash | hasControl
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard bytes.count - position >= 4 else { throw error("invalid \\u escape: expected 4 hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape: expected 4 hex digits")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }
}

// MARK: - Flat documents

extension JSONDocument {
    /// Parses exactly one JSON value into a flat document: the same grammar, limits, dropped members and
    /// errors as `JSONParser.parse(_:limits:)`, without building a tree (`limits.knownStrings` is not used:
    /// no string is built while parsing).
    /// `limits` is borrowed: an initializer would otherwise take it owned, the caller retaining the arrays of a
    /// shared `Limits` for the call and this releasing them (or destroying a default one) on every parse.
    public init(parsing bytes: [UInt8], limits: borrowing JSONParser.Limits = JSONParser.Limits()) throws(JSONParseError) {
        // The nodes are written straight into the storage of the array the document keeps (a review has hundreds:
        // copying them out of a scratch buffer cost more than a tenth of the parse). A text with more nodes than
        // the estimate (dense arrays of numbers) moves them to a larger buffer and is copied once at the end.
        var failure: JSONParseError?
        var spilled: [JSONDocument.Node]?
        let nodes = [JSONDocument.Node](unsafeUninitializedCapacity: bytes.count / 8 + 8) { storage, initializedCount in
            bytes.withUnsafeBufferPointer { buffer in
                var reader = Reader(buffer, limits: limits, buildsStrings: false)
                var nodes = NodeBuffer(storage)
                do throws(JSONParseError) {
                    // Offsets are kept in 32 bits; the webhook's bodies are limited to 3 MiB.
                    guard buffer.count < Int(UInt32.max) else { throw reader.error("input larger than 4 GiB", at: 0) }
                    reader.skipWhitespace()
                    try reader.scanValue(depth: 0, into: &nodes)
                    reader.skipWhitespace()
                    if reader.position != buffer.count {
                        throw reader.error("unexpected data after the JSON value")
                    }
                    if nodes.isInPlace {
                        initializedCount = nodes.count
                    } else {
                        spilled = nodes.array()
                    }
                } catch {
                    failure = error
                }
            }
        }
        if let failure { throw failure }
        self.init(text: bytes, nodes: spilled ?? nodes)
    }
}

/// The nodes of a document being parsed: a growable buffer written without the uniqueness and bounds checks
/// an array makes on every append and update (a review has hundreds of nodes). It starts in storage it is
/// lent (the final array's) and moves to storage of its own only if that fills up.
private struct NodeBuffer: ~Copyable {
    private var base: UnsafeMutablePointer<JSONDocument.Node>
    private var capacity: Int
    private(set) var count = 0
    /// Still in the lent storage: its nodes need no copy.
    private(set) var isInPlace = true

    init(_ lent: UnsafeMutableBufferPointer<JSONDocument.Node>) {
        if let lentBase = lent.baseAddress, lent.count > 0 {
            base = lentBase
            capacity = lent.count
        } else {
            base = .allocate(capacity: 16)
            capacity = 16
            isInPlace = false
        }
    }

    deinit { if !isInPlace { base.deallocate() } }

    @inline(__always)
    mutating func append(_ node: JSONDocument.Node) {
        reserveOne()
        appendReserved(node)
    }

    /// Makes room for one more node. Asked before the node's fields are computed, none of them is live across
    /// `grow` (a call, around which they would be spilled).
    @inline(__always)
    mutating func reserveOne() {
        if count == capacity { grow() }
    }

    /// Makes room for two more nodes: an object member's key and its value when that is not a container.
    @inline(__always)
    mutating func reserveTwo() {
        // `grow` doubles a capacity of at least 16.
        if capacity &- count < 2 { grow() }
    }

    /// Appends a node after `reserveOne`.
    @inline(__always)
    mutating func appendReserved(_ node: JSONDocument.Node) {
        (base + count).initialize(to: node)
        count &+= 1
    }

    /// Takes back the last node appended (a dropped member's key).
    mutating func removeLast() { count -= 1 }

    /// The text of the last node appended, a string's (the key of the member being read).
    var lastString: Range<Int> { Int(base[count - 1].start)..<Int(base[count - 1].end) }

    /// Records an object's member count or an array's element count.
    mutating func setCount(_ members: Int, of index: Int) {
        base[index].count = UInt32(truncatingIfNeeded: members)
    }

    /// Records that the value at `index` ends here: the next node appended follows it.
    mutating func endValue(at index: Int) {
        base[index].next = UInt32(truncatingIfNeeded: count)
    }

    @inline(never)
    private mutating func grow() {
        let larger = UnsafeMutablePointer<JSONDocument.Node>.allocate(capacity: capacity * 2)
        larger.moveInitialize(from: base, count: count)
        if !isInPlace { base.deallocate() }
        base = larger
        capacity *= 2
        isInPlace = false
    }

    func array() -> [JSONDocument.Node] { Array(UnsafeBufferPointer(start: base, count: count)) }
}

extension Reader {
    /// Checks one value against the same grammar as `parseValue` and appends its nodes.
    ///
    /// Between tokens, the byte expected next is looked at first and whitespace is skipped only when it is not
    /// there: the apiserver sends compact JSON. The checks and errors are those of `parseValue`, in its order.
    /// Steps past a byte just read, and counts of nodes (fewer than the bytes), cannot overflow: `&+`.
    mutating func scanValue(depth: Int, into nodes: inout NodeBuffer) throws(JSONParseError) {
        guard position < bytes.count else { throw error("unexpected end of input, expected a value") }
        let index = nodes.count
        switch bytes[position] {
        case UInt8(ascii: "{"):
            guard depth &+ 1 <= maxDepth else { throw depthError() }
            nodes.append(JSONDocument.Node(kind: .object))
            position = try scanMembers(from: position &+ 1, depth: depth &+ 1, into: &nodes, of: index)
        case UInt8(ascii: "["):
            guard depth &+ 1 <= maxDepth else { throw depthError() }
            nodes.append(JSONDocument.Node(kind: .array))
            var (at, byte) = token(from: position &+ 1)
            var count = 0
            if byte == UInt8(ascii: "]") {
                at &+= 1
            } else {
                while true {
                    // Whitespace before the element is skipped: after '[' above, after ',' below.
                    if byte == quote {
                        at = try scanString(at: at, into: &nodes)
                    } else {
                        position = at
                        try scanValue(depth: depth &+ 1, into: &nodes)
                        at = position
                    }
                    count &+= 1
                    let (next, nextByte, closed) = try passSeparator(at: at, closing: UInt8(ascii: "]"), inside: "array")
                    (at, byte) = (next, nextByte)
                    if closed { break }
                }
            }
            nodes.setCount(count, of: index)
            position = at
        case quote:
            position = try scanString(at: position, into: &nodes)
            return
        case UInt8(ascii: "t"): try passLiteral("true"); nodes.append(JSONDocument.Node(kind: .true))
        case UInt8(ascii: "f"): try passLiteral("false"); nodes.append(JSONDocument.Node(kind: .false))
        case UInt8(ascii: "n"): try passLiteral("null"); nodes.append(JSONDocument.Node(kind: .null))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = position
            try passNumber()
            nodes.append(JSONDocument.Node(kind: .number, start: start, end: position))
        default: throw unexpected(at: position, expected: "a value")
        }
        nodes.endValue(at: index)
    }

    /// The members of the object whose node is at `index` and whose text follows the `{` at `start - 1`:
    /// appends their nodes, records how many were kept and returns the offset after the closing `}`.
    ///
    /// The cursor is a local, written to `position` only around calls that read it: `self` is inout, so each
    /// update of `position` would be a store, and each read after a node is written a reload.
    @inline(__always)
    mutating func scanMembers(
        from start: Int, depth: Int, into nodes: inout NodeBuffer, of index: Int
    ) throws(JSONParseError) -> Int {
        var (at, byte) = token(from: start)
        var count = 0
        if byte == UInt8(ascii: "}") {
            at &+= 1
        } else {
            while true {
                // Whitespace before the key is skipped: after '{' above, after ',' below.
                guard byte == quote else { throw unexpected(at: at, expected: "a string key") }
                // Room for the key and a scalar value, made once: their appends check nothing.
                nodes.reserveTwo()
                at = try scanReservedString(at: at, into: &nodes)
                let first: UInt8
                (at, first) = try passColon(at: at)
                if first == quote {
                    // Most values are strings: scanned here, without another level of recursion.
                    at = try scanReservedString(at: at, into: &nodes)
                    count &+= 1
                } else if first &- UInt8(ascii: "0") < 10 || first == UInt8(ascii: "-") {
                    // Numbers and booleans too, as `scanValue` reads them: a review has dozens.
                    position = at
                    try passNumber()
                    nodes.appendReserved(JSONDocument.Node(kind: .number, start: at, end: position, next: nodes.count &+ 1))
                    at = position
                    count &+= 1
                } else if first == UInt8(ascii: "t") || first == UInt8(ascii: "f") {
                    position = at
                    if first == UInt8(ascii: "t") {
                        try passLiteral("true")
                        nodes.appendReserved(JSONDocument.Node(kind: .true, next: nodes.count &+ 1))
                    } else {
                        try passLiteral("false")
                        nodes.appendReserved(JSONDocument.Node(kind: .false, next: nodes.count &+ 1))
                    }
                    at = position
                    count &+= 1
                } else {
                    guard at < bytes.count else { throw error("unexpected end of input, expected a value", at: at) }
                    position = at
                    if dropsAny, first == UInt8(ascii: "{") || first == UInt8(ascii: "["),
                       dropped.mayContainListed(UnsafeBufferPointer(rebasing: bytes[nodes.lastString])),
                       try skipIfDropped(key: nodes.lastString, depth: depth) {
                        nodes.removeLast()  // the key
                    } else {
                        try scanValue(depth: depth, into: &nodes)
                        count &+= 1
                    }
                    at = position
                }
                let (next, nextByte, closed) = try passSeparator(at: at, closing: UInt8(ascii: "}"), inside: "object")
                (at, byte) = (next, nextByte)
                if closed { break }
            }
        }
        nodes.setCount(count, of: index)
        return at
    }

    /// Validates the string whose opening quote is at `start`, appends its node and returns the offset after it.
    @inline(__always)
    mutating func scanString(at start: Int, into nodes: inout NodeBuffer) throws(JSONParseError) -> Int {
        nodes.reserveOne()
        return try scanReservedString(at: start, into: &nodes)
    }

    /// `scanString` after room for its node was made.
    @inline(__always)
    mutating func scanReservedString(at start: Int, into nodes: inout NodeBuffer) throws(JSONParseError) -> Int {
        if let end = plainStringEnd(from: start &+ 1) {
            nodes.appendReserved(JSONDocument.Node(kind: .string, start: start &+ 1, end: end, next: nodes.count &+ 1))
            return end &+ 1
        }
        position = start
        let (contentStart, end, isEscaped) = try scanStringContent()
        nodes.appendReserved(JSONDocument.Node(kind: .string, isEscaped: isEscaped, start: contentStart, end: end, next: nodes.count &+ 1))
        return position
    }

    /// Validates the string at `position` (escapes and control characters where they occur, UTF-8 for the
    /// whole string at its end: the checks, their order and errors of both the tree and the document) and
    /// moves past it; returns where its raw text is and whether it holds escapes.
    mutating func scanStringContent() throws(JSONParseError) -> (contentStart: Int, end: Int, isEscaped: Bool) {
        let start = position
        position += 1  // opening quote
        let contentStart = position
        var seen: UInt64 = 0  // every byte outside escapes OR-ed together: bit 7 set means non-ASCII
        var isEscaped = false
        while true {
            skipPlainWords(orInto: &seen)
            guard position < bytes.count else { throw error("unterminated string", at: start) }
            let byte = bytes[position]
            if byte == quote {
                // Escapes are ASCII and decode to whole scalars, so the raw text is well-formed UTF-8 exactly
                // when the decoded string is.
                if seen & 0x8080_8080_8080_8080 != 0
                    && !isValidUTF8(UnsafeBufferPointer(rebasing: bytes[contentStart..<position])) {
                    throw error("invalid UTF-8 in string", at: contentStart)
                }
                position += 1
                return (contentStart, position - 1, isEscaped)
            }
            if byte == backslash {
                isEscaped = true
                position += 1
                guard position < bytes.count else { throw error("unterminated string", at: start) }
                let escaped = bytes[position]
                position += 1
                switch escaped {
                case quote, backslash, UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                     UInt8(ascii: "r"), UInt8(ascii: "t"):
                    break
                case UInt8(ascii: "u"):
                    _ = try parseHex4()
                default:
                    throw error("invalid escape '\\\(Character(Unicode.Scalar(escaped)))' in string", at: position - 2)
                }
                continue
            }
            if byte < 0x20 { throw error("control character in string (must be escaped)") }
            seen |= UInt64(byte)
            position += 1
        }
    }
}
