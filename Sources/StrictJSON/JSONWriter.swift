/// Writes JSON compactly. Members keep their stored order, so responses read the same every time.
/// Strings are escaped as Go's encoding/json escapes them (including `<`, `>`, `&`, U+2028, U+2029), so our
/// bytes match what a Go webhook would send.
public enum JSONWriter {
    /// Appends `string` as a quoted, escaped JSON string.
    public static func appendQuoted(_ string: String, to output: inout [UInt8]) {
        withUTF8(of: string) { appendEscaped($0, to: &output, opening: true, closing: true) }
    }

    /// The room `writeEscaped` needs to take a step: a 16-byte block stored whole, then, within it, an escape
    /// written as one 8-byte store (six bytes kept).
    public static let escapeStepRoom = 24

    /// Appends `string` quoted, as `appendQuoted(_:to:)` does, and returns where in `output` the quoted form of its
    /// last `suffixCount` bytes begins (it runs to the closing quote, included): a string that ends with the same
    /// bytes is then written as its own beginning and a copy of those, not escaped again.
    /// `suffixCount` bytes from the end must start a character (escapes are per character, so the quoted form
    /// of the suffix is the same in either string).
    public static func appendQuoted(_ string: String, to output: inout [UInt8], suffixCount: Int) -> Int {
        withUTF8(of: string) { bytes in
            let split = bytes.count - suffixCount
            precondition(split >= 0 && split <= bytes.count && (split == bytes.count || bytes[split] & 0xC0 != 0x80),
                         "JSONWriter: the suffix must start a character")
            appendEscaped(UnsafeBufferPointer(rebasing: bytes[..<split]), to: &output, opening: true, closing: false)
            let suffixStart = output.count
            appendEscaped(UnsafeBufferPointer(rebasing: bytes[split...]), to: &output, opening: false, closing: true)
            return suffixStart
        }
    }

    /// `body` on the string's UTF-8, read in place where it is stored so (`withUTF8` needs a mutable copy: a
    /// retain and a release).
    private static func withUTF8<Result>(of string: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        if let result = string.utf8.withContiguousStorageIfAvailable(body) { return result }
        var native = string  // bridged: made native UTF-8 first
        return native.withUTF8(body)
    }

    /// Writes the text straight into the array's spare capacity: plain runs are stored sixteen bytes at a
    /// time, not appended run by run (a denial's message has a quote every twenty bytes or so). With the
    /// opening quote or the closing one, or both.
    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to output: inout [UInt8],
                                      opening: Bool, closing: Bool) {
        var read = 0
        var started = false
        while true {
            // All the spare capacity (callers reserve for escapes), but at least the room for plain text.
            let room = max(output.capacity - output.count, bytes.count - read + 2 + escapeStepRoom)
            var done = false
            output.append(addingCapacity: room) { span in
                span.withUnsafeMutableBufferPointer { buffer, initialized in
                    let start = buffer.baseAddress!
                    var used = 0
                    if !started {
                        if opening {
                            start[0] = UInt8(ascii: "\"")
                            used = 1
                        }
                        if writeIfPlain(bytes, to: start + used) {  // the room holds the text and both quotes
                            used += bytes.count
                            if closing {
                                start[used] = UInt8(ascii: "\"")
                                used += 1
                            }
                            initialized = used
                            done = true
                            return
                        }
                    }
                    // One byte kept back for the closing quote.
                    let step = writeEscaped(bytes, from: read, to: start + used, room: buffer.count - used - 1)
                    read = step.read
                    used += step.written
                    if read == bytes.count {
                        if closing {
                            start[used] = UInt8(ascii: "\"")
                            used += 1
                        }
                        done = true
                    }
                    initialized = used
                }
            }
            if done { return }
            started = true
        }
    }

    /// Copies `source` to `output` (room for `source.count` bytes) and returns true when none of its bytes needs
    /// a look (`attentionFlags`, the test `writeEscaped` makes); otherwise returns false, having copied some of
    /// it, and the caller writes it with `writeEscaped`. Most strings (uids, names, a policy) are plain, and this
    /// is half the instructions of `writeEscaped` on them. Non-ASCII text takes `writeEscaped` (it copies it).
    public static func writeIfPlain(_ source: UnsafeBufferPointer<UInt8>, to output: UnsafeMutablePointer<UInt8>) -> Bool {
        guard let base = source.baseAddress else { return true }
        let count = source.count
        var index = 0
        while index &+ 16 <= count {
            let block = UnsafeRawPointer(base + index).loadUnaligned(as: Block.self)
            if attentionFlags(block) != 0 { return false }
            UnsafeMutableRawPointer(output + index).storeBytes(of: block, as: Block.self)
            index &+= 16
        }
        guard index < count else { return true }
        if lastFlags(base, index, count) != 0 { return false }
        copyShort(base + index, to: output + index, count: count &- index)
        return true
    }

    /// Writes `source[start...]` escaped (without quotes) at `output`, a step at a time while at least
    /// `escapeStepRoom` of its `room` bytes are free. Returns the index it read up to (`source.count` when
    /// finished) and the bytes written. A room of `6 * (source.count - start) + escapeStepRoom` always suffices;
    /// with less, write the rest from `read` into more room.
    ///
    /// Go's escaping: `"` `\` and \n \r \t \b \f as two characters; other control characters, `<`, `>`, `&`,
    /// U+2028 and U+2029 as `\uXXXX`; every other byte (invalid UTF-8 too) as it is.
    public static func writeEscaped(_ source: UnsafeBufferPointer<UInt8>, from start: Int,
                                    to output: UnsafeMutablePointer<UInt8>, room: Int) -> (read: Int, written: Int) {
        guard let base = source.baseAddress else { return (start, 0) }
        // Wrapping arithmetic in the loops: the positions are bounded by the buffers (checked arithmetic is a
        // third of the instructions of an escape).
        let count = source.count
        let lastBlock = count &- 16  // a 16-byte block starts at or before this
        let lastStep = room &- escapeStepRoom  // a step starts only while `used` is at most this
        var index = start
        var used = 0
        // Sixteen bytes a step: a block is stored whole, and kept whole unless some of its bytes need attention.
        while index <= lastBlock && used <= lastStep {
            let block = UnsafeRawPointer(base + index).loadUnaligned(as: Block.self)
            UnsafeMutableRawPointer(output + used).storeBytes(of: block, as: Block.self)
            var flags = attentionFlags(block)
            if flags == 0 {
                index &+= 16
                used &+= 16
                continue
            }
            // The flagged bytes in turn, one mask per block: after an escape the rest of the block is stored
            // again at its new place, from the source (while sixteen bytes are left there, and room; otherwise
            // the next block starts after the escape).
            var done = 0  // the block's bytes written; the source's next sixteen are stored at `used`
            while true {
                let flagged = flags.trailingZeroBitCount
                used &+= flagged &- done
                let step = writeEscape(base, index &+ flagged, count, to: output + used)
                used &+= step.written
                done = flagged &+ step.read
                flags &= UInt32.max &<< done  // (U+2028/9's last two bytes are flagged too)
                guard index &+ done <= lastBlock && used <= lastStep else { break }
                let rest = UnsafeRawPointer(base + (index &+ done)).loadUnaligned(as: Block.self)
                UnsafeMutableRawPointer(output + used).storeBytes(of: rest, as: Block.self)
                if flags == 0 {
                    // The block's bytes after the last escape are stored and plain.
                    if done < 16 {
                        used &+= 16 &- done
                        done = 16
                    }
                    break
                }
            }
            index &+= done
        }
        guard index < count && used <= lastStep else { return (index, used) }
        // Fewer than sixteen bytes left: their flags from one block (the string's last sixteen bytes, or the
        // bytes left gathered), then the runs between flags copied.
        var flags = lastFlags(base, index, count)
        while used <= lastStep {
            let plain = min(flags.trailingZeroBitCount, count &- index)
            copyShort(base + index, to: output + used, count: plain)
            index &+= plain
            used &+= plain
            if index == count { break }
            let step = writeEscape(base, index, count, to: output + used)
            index &+= step.read
            used &+= step.written
            flags >>= plain &+ step.read
        }
        return (index, used)
    }

    typealias Block = SIMD16<UInt8>

    /// Bit i set when byte i of `block` needs attention: `"`, `\`, `<`, `>`, `&`, a control character, or any
    /// non-ASCII byte (U+2028 and U+2029 are escaped; other non-ASCII bytes are copied by `writeEscape`).
    /// Controls and non-ASCII bytes are one signed comparison, so that the test is fourteen instructions.
    @inline(__always)
    static func attentionFlags(_ block: Block) -> UInt32 {
        // Compared lane by lane with whole vectors (comparisons with a scalar are not vectorized).
        let signed = unsafeBitCast(block, to: SIMD16<Int8>.self)
        let flagged = (signed .< SIMD16<Int8>(repeating: 0x20))
            .| (block | Block(repeating: 0x04) .== Block(repeating: 0x26))  // `"` and `&`
            .| (block & Block(repeating: 0xFD) .== Block(repeating: 0x3C))  // `<` and `>`
            .| (block .== Block(repeating: 0x5C))
        return ByteBlock.laneBits(unsafeBitCast(flagged, to: Block.self))
    }

    /// The flags of `base[index..<count]` (fewer than sixteen bytes), bit 0 for `index`, read without going
    /// past `count` or before the string.
    @inline(__always)
    private static func lastFlags(_ base: UnsafePointer<UInt8>, _ index: Int, _ count: Int) -> UInt32 {
        let left = count - index
        if count >= 16 {
            // The string's last sixteen bytes; those already written are shifted out.
            return attentionFlags(UnsafeRawPointer(base + count - 16).loadUnaligned(as: Block.self)) >> (16 - left)
        }
        // A short string: its bytes gathered into the low half of a block padded with spaces (copied as they
        // are), by two overlapping loads, whose flags are then put back in place.
        let spaces: UInt64 = 0x2020_2020_2020_2020
        let word: UInt64, flags: UInt32
        if left >= 8 {
            let first = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            let last = UnsafeRawPointer(base + count - 8).loadUnaligned(as: UInt64.self)
            let bits = attentionFlags(unsafeBitCast(SIMD2<UInt64>(first, last), to: Block.self))
            return bits & 0xFF | (bits >> 8) << (left - 8)
        } else if left >= 4 {
            let first = UInt64(UnsafeRawPointer(base + index).loadUnaligned(as: UInt32.self))
            let last = UInt64(UnsafeRawPointer(base + count - 4).loadUnaligned(as: UInt32.self))
            word = UInt64(littleEndian: first | last << 32)
            flags = attentionFlags(unsafeBitCast(SIMD2<UInt64>(word, spaces), to: Block.self))
            return flags & 0xF | (flags >> 4) << (left - 4)
        } else {
            // One to three bytes: the first, middle and last.
            let gathered = UInt64(base[index]) | UInt64(base[index + left / 2]) << 8 | UInt64(base[count - 1]) << 16
            word = UInt64(littleEndian: gathered | spaces << 24)
            flags = attentionFlags(unsafeBitCast(SIMD2<UInt64>(word, spaces), to: Block.self))
            return flags & 1 | (flags >> 1 & 1) << (left / 2) | (flags >> 2 & 1) << (left - 1)
        }
    }

    /// Copies `count` bytes (fewer than sixteen) by two overlapping loads and stores.
    @inline(__always)
    private static func copyShort(_ source: UnsafePointer<UInt8>, to target: UnsafeMutablePointer<UInt8>, count: Int) {
        let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(target)
        if count >= 8 {
            to.storeBytes(of: from.loadUnaligned(as: UInt64.self), as: UInt64.self)
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self), toByteOffset: count - 8, as: UInt64.self)
        } else if count >= 4 {
            to.storeBytes(of: from.loadUnaligned(as: UInt32.self), as: UInt32.self)
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self), toByteOffset: count - 4, as: UInt32.self)
        } else if count > 0 {
            target[0] = source[0]
            target[count / 2] = source[count / 2]
            target[count - 1] = source[count - 1]
        }
    }

    /// Writes the escape of the flagged byte `base[index]` at `output` (eight bytes stored, the escape's two or
    /// six kept); returns the bytes read (3 for U+2028/9) and written. Other non-ASCII bytes are copied.
    @inline(__always)
    private static func writeEscape(_ base: UnsafePointer<UInt8>, _ index: Int, _ count: Int,
                                    to output: UnsafeMutablePointer<UInt8>) -> (read: Int, written: Int) {
        let target = UnsafeMutableRawPointer(output)
        let byte = base[index]
        let backslash: UInt64 = 0x5C
        /// Little-endian `\u` followed by `digits` (four ASCII bytes).
        @inline(__always) func unicode(_ digits: UInt64) -> UInt64 { (backslash | UInt64(UInt8(ascii: "u")) << 8 | digits << 16).littleEndian }
        // Quotes first: most of a denial's escapes.
        if byte == 0x22 || byte == 0x5C {
            target.storeBytes(of: (backslash | UInt64(byte) << 8).littleEndian, as: UInt64.self)
            return (1, 2)
        }
        let letter: UInt8
        switch byte {
        case 0x0A: letter = UInt8(ascii: "n")
        case 0x0D: letter = UInt8(ascii: "r")
        case 0x09: letter = UInt8(ascii: "t")
        case 0x08: letter = UInt8(ascii: "b")
        case 0x0C: letter = UInt8(ascii: "f")
        case 0x80...:
            if byte == 0xE2 && count &- index >= 3 && base[index &+ 1] == 0x80 && base[index &+ 2] & 0xFE == 0xA8 {
                // "2028" or "2029"
                let digits: UInt64 = 0x0032_3032 | UInt64(base[index &+ 2] == 0xA8 ? UInt8(ascii: "8") : UInt8(ascii: "9")) << 24
                target.storeBytes(of: unicode(digits), as: UInt64.self)
                return (3, 6)
            }
            output[0] = byte
            return (1, 1)
        default:
            // `\u00XX`, lowercase hex as Go writes it: a control character, `<`, `>` or `&`.
            let low = UInt64(byte & 0xF)
            let lowDigit = low < 10 ? 0x30 + low : 0x57 + low
            let digits = 0x3030 | UInt64(0x30 + byte >> 4) << 16 | lowDigit << 24
            target.storeBytes(of: unicode(digits), as: UInt64.self)
            return (1, 6)
        }
        target.storeBytes(of: (backslash | UInt64(letter) << 8).littleEndian, as: UInt64.self)
        return (1, 2)
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
