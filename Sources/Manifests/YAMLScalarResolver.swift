import StrictJSON

/// A scalar that has no JSON form (`.inf`, `.nan`, an integer tag on text that is not one).
struct ScalarProblem: Error {
    var message: String
}

/// Resolves YAML scalars to JSON values as go-yaml v2 does for sigs.k8s.io/yaml (what kubectl applies):
/// quoted and block scalars are strings; plain scalars may be null, YAML 1.1 booleans, integers (decimal,
/// `0x`, `0o`, `0b`, leading-zero octal, `_` separators) or floats; explicit `!!str`/`!!int`/... tags decide.
enum YAMLScalarResolver {
    private static let nullWords: Set<String> = ["", "~", "null", "Null", "NULL"]
    private static let trueWords: Set<String> = ["y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"]
    private static let falseWords: Set<String> = ["n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"]

    static func resolve(_ text: String, tag: String?, isPlain: Bool) -> Result<JSONValue, ScalarProblem> {
        switch tag.map(shortTag) {
        case "!!str"?, "!"?, "!!binary"?, "!!timestamp"?:
            return .success(.string(text))
        case "!!null"?:
            return .success(.null)
        case "!!bool"?:
            if trueWords.contains(text) { return .success(.bool(true)) }
            if falseWords.contains(text) { return .success(.bool(false)) }
            return .failure(ScalarProblem(message: "cannot read \(quoted(text)) as !!bool"))
        case "!!int"?:
            if let integer = integerText(text) { return .success(.number(JSONNumber(text: integer))) }
            return .failure(ScalarProblem(message: "cannot read \(quoted(text)) as !!int"))
        case "!!float"?:
            if let integer = integerText(text) { return .success(.number(JSONNumber(text: integer))) }
            return floatValue(text) ?? .failure(ScalarProblem(message: "cannot read \(quoted(text)) as !!float"))
        default:
            break
        }
        guard isPlain else { return .success(.string(text)) }
        if nullWords.contains(text) { return .success(.null) }
        if trueWords.contains(text) { return .success(.bool(true)) }
        if falseWords.contains(text) { return .success(.bool(false)) }
        guard let first = text.utf8.first,
              first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
              || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
        else { return .success(.string(text)) }
        if let integer = integerText(text) { return .success(.number(JSONNumber(text: integer))) }
        if let float = floatValue(text) { return float }
        return .success(.string(text))
    }

    private static func shortTag(_ tag: String) -> String {
        let prefix = "tag:yaml.org,2002:"
        return tag.hasPrefix(prefix) ? "!!" + tag.dropFirst(prefix.count) : tag
    }

    private static func quoted(_ text: String) -> String { "\"\(text)\"" }

    /// Decimal text of a YAML 1.1 / Go `ParseInt(s, 0, 64)` integer (underscores removed first), or nil.
    static func integerText(_ text: String) -> String? {
        var digits = Substring(text.replacingUnderscores())
        var negative = false
        if digits.first == "+" || digits.first == "-" {
            negative = digits.first == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var radix = 10
        let lower = digits.lowercased()
        if lower.hasPrefix("0x") { radix = 16; digits = digits.dropFirst(2) }
        else if lower.hasPrefix("0o") { radix = 8; digits = digits.dropFirst(2) }
        else if lower.hasPrefix("0b") { radix = 2; digits = digits.dropFirst(2) }
        else if digits.count > 1 && digits.first == "0" { radix = 8; digits = digits.dropFirst() }
        guard !digits.isEmpty, let magnitude = UInt64(digits, radix: radix) else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == 0 ? "0" : "-\(magnitude)"
        }
        return String(magnitude)
    }

    /// A float in YAML's plain style (`1.5`, `-2e3`, `.5`), written as a JSON number; `.inf`/`.nan` have none.
    private static func floatValue(_ text: String) -> Result<JSONValue, ScalarProblem>? {
        let plain = text.replacingUnderscores()
        switch plain.lowercased() {
        case ".inf", "+.inf", "-.inf", ".nan":
            return .failure(ScalarProblem(message: "\(quoted(text)) has no JSON representation"))
        default:
            break
        }
        guard isFloatSyntax(plain), let double = Double(plain), double.isFinite else { return nil }
        if double == double.rounded(), abs(double) < 1e15 {
            return .success(.number(JSONNumber(text: String(Int64(double)))))
        }
        return .success(.number(JSONNumber(text: "\(double)")))
    }

    /// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, go-yaml's float syntax.
    private static func isFloatSyntax(_ text: String) -> Bool {
        var bytes = Substring(text).utf8[...]
        func digits() -> Int {
            var count = 0
            while let byte = bytes.first, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { bytes = bytes.dropFirst(); count += 1 }
            return count
        }
        if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            guard digits() > 0 else { return false }
        } else {
            guard digits() > 0 else { return false }
            if bytes.first == UInt8(ascii: ".") { bytes = bytes.dropFirst(); _ = digits() }
        }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return bytes.isEmpty
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        utf8.contains(UInt8(ascii: "_")) ? String(filter { $0 != "_" }) : self
    }
}
