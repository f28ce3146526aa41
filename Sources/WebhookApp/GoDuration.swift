/// Parses Go's `time.Duration` text, the format of the apiserver's `?timeout=` query parameter
/// (`10s`, `1m30s`, `500ms`, `1.5s`). Returns seconds, or nil for anything malformed or negative.
public enum GoDuration {
    /// Go's units and their length in seconds (both spellings of micro).
    private static let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("μs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]

    public static func seconds(_ text: String) -> Double? {
        var bytes = Substring(text).utf8[...]
        guard !bytes.isEmpty else { return nil }
        if bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        if bytes.elementsEqual("0".utf8) { return 0 }
        var total = 0.0
        var sawComponent = false
        while !bytes.isEmpty {
            // A number: digits with at most one '.'.
            var number = ""
            while let byte = bytes.first, (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".") {
                number.append(Character(Unicode.Scalar(byte)))
                bytes = bytes.dropFirst()
            }
            guard !number.isEmpty, number != ".", let value = Double(number) else { return nil }
            // A unit: the longest match among Go's units.
            var matched: (length: Int, scale: Double)? = nil
            for (unit, scale) in Self.units where bytes.starts(with: unit.utf8) {
                if matched == nil || unit.utf8.count > matched!.length { matched = (unit.utf8.count, scale) }
            }
            guard let unit = matched else { return nil }
            bytes = bytes.dropFirst(unit.length)
            total += value * unit.scale
            sawComponent = true
        }
        return sawComponent && total.isFinite ? total : nil
    }
}
