/// Writes JSON compactly. Members keep their stored order, so responses read the same every time.
/// Strings are escaped as Go's encoding/json escapes them (including `<`, `>`, `&`, U+2028, U+2029), so our
/// bytes match what a Go webhook would send.
public enum JSONWriter {
    /// Appends `string` as a quoted, escaped JSON string.
    public static func appendQuoted(_ string: String, to output: inout [UInt8]) {
        var string = string
        string.withUTF8 { appendQuoted($0, to: &output) }
    }

    /// The escaped text is assembled in a small stack buffer and appended to `output` a chunk at a time:
    /// appending each run between escapes to the array costs more than the escape itself, and a denial's
    /// message has dozens of quotes.
    private static let chunkCapacity = 512

    private static func appendQuoted(_ bytes: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        let escapeAction = Self.escapeAction  // read once: the global is checked for initialization at every read
        output.reserveCapacity(output.count + bytes.count + 2)
        output.append(UInt8(ascii: "\""))
        // The plain prefix, often the whole string (names, versions, keys), is appended as it is.
        let count = bytes.count
        var start = 0
        while count - start >= 8 {
            let flagged = escapeMask(UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + start).loadUnaligned(as: UInt64.self)))
            if flagged != 0 {
                start += flagged.trailingZeroBitCount >> 3
                break
            }
            start += 8
        }
        while start < count && escapeAction[Int(bytes[start])] == 0 { start += 1 }
        if start > 0 { output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[0..<start])) }
        if start == count {
            output.append(UInt8(ascii: "\""))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: chunkCapacity) { chunk in
            let out = UnsafeMutableRawPointer(chunk.baseAddress!)
            var used = 0
            var index = start
            while index < count {
                // Room for one step: a word stored whole (eight bytes, up to seven of them kept), then one
                // byte escaped to at most six.
                if used > chunkCapacity - 16 {
                    output.append(contentsOf: UnsafeBufferPointer(start: chunk.baseAddress, count: used))
                    used = 0
                }
                // Eight bytes at a time while none of them can need an escape (most of a message is plain
                // text); a word with a flagged byte is stored whole too, but only its bytes before the flag
                // count (the rest is overwritten).
                if count - index >= 8 {
                    let word = UnsafeRawPointer(bytes.baseAddress! + index).loadUnaligned(as: UInt64.self)
                    out.storeBytes(of: word, toByteOffset: used, as: UInt64.self)
                    let flagged = escapeMask(UInt64(littleEndian: word))
                    if flagged == 0 {
                        index += 8
                        used += 8
                        continue
                    }
                    let plain = flagged.trailingZeroBitCount >> 3
                    index += plain
                    used += plain
                }
                let byte = bytes[index]
                switch escapeAction[Int(byte)] {
                case 0:
                    chunk[used] = byte
                    used += 1
                    index += 1
                case 1:
                    chunk[used] = 0x5C
                    chunk[used + 1] = shortEscape(byte)
                    used += 2
                    index += 1
                case 2:
                    writeUnicodeEscape(UInt16(byte), to: chunk, at: used)
                    used += 6
                    index += 1
                default:
                    // U+2028 and U+2029 (E2 80 A8 / E2 80 A9) are escaped too; other E2 sequences are copied.
                    if index + 2 < count, bytes[index + 1] == 0x80, bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9 {
                        writeUnicodeEscape(bytes[index + 2] == 0xA8 ? 0x2028 : 0x2029, to: chunk, at: used)
                        used += 6
                        index += 3
                    } else {
                        chunk[used] = byte
                        used += 1
                        index += 1
                    }
                }
            }
            output.append(contentsOf: UnsafeBufferPointer(start: chunk.baseAddress, count: used))
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Whether `appendQuoted` copies `utf8` unchanged between its quotes, answered conservatively, eight bytes a
    /// step: true when no byte may need an escape and none is non-ASCII (U+2028/9 are escaped), so a caller
    /// may write such text itself and leave the rest to `appendQuoted`.
    public static func isQuotedUnchanged(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = utf8.baseAddress else { return true }
        let highs: UInt64 = 0x8080_8080_8080_8080
        var index = 0
        while utf8.count - index >= 8 {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
            if word & highs != 0 || escapeMask(word) != 0 { return false }
            index += 8
        }
        if index < utf8.count {
            // The last bytes, padded to a word with spaces (copied unchanged).
            var last: UInt64 = 0x2020_2020_2020_2020
            withUnsafeMutableBytes(of: &last) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[index...])) }
            let word = UInt64(littleEndian: last)
            if word & highs != 0 || escapeMask(word) != 0 { return false }
        }
        return true
    }

    /// High bits flag the bytes of `word` (little-endian: byte 0 lowest) that `escapeAction` does not copy:
    /// `"`, `\`, a control character, `<`, `>`, `&` or 0xE2 (U+2028/9 start with it). Zero when there are none;
    /// otherwise the lowest flag is exact (each test's borrows only run upward, so a false flag can only sit
    /// above a true one), and it is the first byte that may need an escape.
    @inline(__always)
    static func escapeMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        /// The bytes of `word` that equal `byte` once the bits of `ignoring` are set in each: a pair of
        /// characters one bit apart is one test (setting bits works byte by byte, so the lowest flag stays exact).
        @inline(__always) func has(_ byte: UInt8, ignoring bits: UInt8 = 0) -> UInt64 {
            let matches = (word | ones &* UInt64(bits)) ^ (ones &* UInt64(byte))
            return (matches &- ones) & ~matches
        }
        let control = (word &- ones &* 0x20) & ~word
        // `"` (0x22) and `&` (0x26) differ in bit 0x04; `<` (0x3C) and `>` (0x3E) in bit 0x02.
        let quoteOrAmpersand = has(0x26, ignoring: 0x04)
        let angleBracket = has(0x3E, ignoring: 0x02)
        return (quoteOrAmpersand | has(0x5C) | angleBracket | has(0xE2) | control) & highs
    }

    /// Per byte: 0 copy, 1 a two-character escape (`\n`, `\"`...), 2 a `\u00XX` escape, 3 maybe U+2028/9.
    private static let escapeAction: [UInt8] = (0..<256).map { byte -> UInt8 in
        switch byte {
        case 0x22, 0x5C, 0x0A, 0x0D, 0x09, 0x08, 0x0C: return 1
        case 0x00..<0x20, 0x3C, 0x3E, 0x26: return 2
        case 0xE2: return 3
        default: return 0
        }
    }

    /// The letter after the backslash for the two-character escapes. (Functions rather than tables here and
    /// below: a global table is checked for lazy initialization at every read.)
    private static func shortEscape(_ byte: UInt8) -> UInt8 {
        switch byte {
        case 0x22: return 0x22
        case 0x5C: return 0x5C
        case 0x0A: return UInt8(ascii: "n")
        case 0x0D: return UInt8(ascii: "r")
        case 0x09: return UInt8(ascii: "t")
        case 0x08: return UInt8(ascii: "b")
        case 0x0C: return UInt8(ascii: "f")
        default: return 0
        }
    }

    private static func hexDigit(_ value: UInt16) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + UInt8(value) : UInt8(ascii: "a") + UInt8(value - 10)
    }

    /// Writes `\uXXXX` (six bytes) at `offset`.
    private static func writeUnicodeEscape(_ value: UInt16, to chunk: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        chunk[offset] = 0x5C
        chunk[offset + 1] = UInt8(ascii: "u")
        chunk[offset + 2] = hexDigit((value >> 12) & 0xF)
        chunk[offset + 3] = hexDigit((value >> 8) & 0xF)
        chunk[offset + 4] = hexDigit((value >> 4) & 0xF)
        chunk[offset + 5] = hexDigit(value & 0xF)
    }

    /// Appends the compact serialization of `value`.
    public static func append(_ value: JSONValue, to output: inout [UInt8]) {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number): output.append(contentsOf: number.text.utf8)
        case .string(let string): appendQuoted(string, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                append(element, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            for (index, member) in object.members.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                appendQuoted(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                append(member.value, to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }
}

extension JSONValue {
    /// The compact JSON bytes of this value.
    public func serialized() -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        JSONWriter.append(self, to: &output)
        return output
    }

    /// The compact JSON text of this value.
    public var jsonText: String { String(decoding: serialized(), as: UTF8.self) }
}
