// The wording helpers PSA's checks share, so that details match upstream byte for byte.

/// `singular` for exactly one, `plural` otherwise (zero included), as PSA's `pluralize`.
func pluralize(_ singular: String, _ plural: String, _ count: Int) -> String {
    count == 1 ? singular : plural
}

/// `"a", "b"`: each item in double quotes, joined by `, `, as PSA's `joinQuote`.
func joinQuote(_ items: [String]) -> String {
    String(capacity: UTF8Writer.quotedListLength(items)) { $0.writeQuotedList(items) }
}

/// `container "a"` / `containers "a", "b"`. (In an interpolation, `String(concatenating: "\(containers: names) …")`
/// writes it straight into the text.)
func containersPhrase(_ names: [String]) -> String {
    let noun = containersNoun(names.count)
    return String(capacity: noun.utf8CodeUnitCount + UTF8Writer.quotedListLength(names)) { text in
        text.write(literal: noun)
        text.writeQuotedList(names)
    }
}

/// `container ` / `containers `, the noun of `containersPhrase` (a literal: written without a string).
func containersNoun(_ count: Int) -> StaticString {
    count == 1 ? "container " : "containers "
}

/// A set's members sorted as Go sorts strings (by bytes), as `sets.String.List()` returns them.
func sortedUnique(_ items: [String]) -> [String] {
    // None or one: already sorted and unique (a failing check usually lists one value), no set to build.
    if items.count < 2 { return items }
    var unique: [String] = []
    var seen = Set<String>()
    for item in items where seen.insert(item).inserted { unique.append(item) }
    return unique.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
}

/// Go's `%q` of a string (`strconv.Quote`): double-quoted, with Go's escapes for quotes, backslashes,
/// control and non-printable characters. Shared with the admission layer, whose messages quote names as PSA's do.
public enum GoSyntax {
    public static func quoted(_ text: String) -> String { goQuoted(text) }
}

/// Go's `%q` of a string as part of a longer text (`String(capacity:writing:)`): a plain name is written between
/// quotes in place, with no quoted string of its own (one allocation fewer for every denial, which names its pod).
package struct GoQuotedText: WritableText {
    private let text: String
    /// `text` needs no escapes: it is written between quotes. Otherwise `text` is already quoted.
    private let isPlain: Bool

    package init(_ text: String) {
        isPlain = isGoPlain(text)
        self.text = isPlain ? text : goQuoted(text)
    }

    package var utf8Count: Int { isPlain ? text.utf8.count + 2 : text.utf8.count }

    package func write(to writer: inout UTF8Writer) {
        guard isPlain else { return writer.write(text) }
        writer.write(literal: "\"")
        writer.write(text)
        writer.write(literal: "\"")
    }
}

/// Printable ASCII without quotes or backslashes (nearly every name): Go's `%q` is the text between quotes.
/// (Checked over the contiguous bytes: this runs for every denial.)
private func isGoPlain(_ text: String) -> Bool {
    // Flags or-ed over the bytes, not a branch per byte (the loop is vectorized).
    text.utf8.withContiguousStorageIfAvailable { bytes in
        var flags: UInt8 = 0
        for byte in bytes { flags |= goQuoteFlag(byte) }
        return flags == 0
    } ?? text.utf8.allSatisfy { goQuoteFlag($0) == 0 }
}

/// 1 for a byte `%q` does not write as it is (outside printable ASCII, `"`, `\`), 0 otherwise.
@inline(__always)
private func goQuoteFlag(_ byte: UInt8) -> UInt8 {
    (byte &- 0x20 >= 0x5F ? 1 : 0) | (byte == 0x22 ? 1 : 0) | (byte == 0x5C ? 1 : 0)
}

func goQuoted(_ text: String) -> String {
    // A plain text is written into one string allocated once.
    if isGoPlain(text) {
        return String(capacity: text.utf8.count + 2) { quoted in
            quoted.write("\"")
            quoted.write(text)
            quoted.write("\"")
        }
    }
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\u{07}": result += "\\a"
        case "\u{08}": result += "\\b"
        case "\u{0C}": result += "\\f"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        case "\u{0B}": result += "\\v"
        default:
            let value = scalar.value
            if value < 0x20 || value == 0x7F {
                result += "\\x" + hex(value, width: 2)
            } else if value < 0x80 || isGoPrintable(scalar) {
                result.unicodeScalars.append(scalar)
            } else if value <= 0xFFFF {
                result += "\\u" + hex(value, width: 4)
            } else {
                result += "\\U" + hex(value, width: 8)
            }
        }
    }
    result += "\""
    return result
}

/// Go's `strconv.IsPrint` for non-ASCII scalars: letters, marks, numbers, punctuation, symbols and U+0020
/// only. Swift's general categories give the same answer.
private func isGoPrintable(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
        return false
    default:
        return true
    }
}

private func hex(_ value: UInt32, width: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
