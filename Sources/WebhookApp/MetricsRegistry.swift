import Synchronization

/// Prometheus counters and histograms, rendered in the text exposition format.
/// One lock guards the maps; it is held for a dictionary update or a render, never across I/O.
public final class MetricsRegistry: Sendable {
    /// A metric family's declaration: its name, help text and type.
    public struct Family: Sendable {
        public enum Kind: String, Sendable { case counter, histogram }
        public var name: String
        public var help: String
        public var kind: Kind
        /// Upper bounds for a histogram's buckets, in seconds.
        public var buckets: [Double]

        public init(name: String, help: String, kind: Kind, buckets: [Double] = []) {
            self.name = name
            self.help = help
            self.kind = kind
            self.buckets = buckets
        }
    }

    private struct Histogram {
        var bucketCounts: [UInt64]
        var count: UInt64 = 0
        var sum: Double = 0
    }

    private struct State {
        /// family name -> rendered label set (`{a="x",b="y"}`) -> value
        var counters: [String: [String: UInt64]] = [:]
        var histograms: [String: [String: Histogram]] = [:]
    }

    private let families: [Family]
    private let familyIndex: [String: Int]
    private let state = Mutex(State())

    /// A registry that knows `families`; updates to undeclared names are ignored.
    public init(families: [Family]) {
        self.families = families
        var index: [String: Int] = [:]
        for (position, family) in families.enumerated() { index[family.name] = position }
        self.familyIndex = index
    }

    /// Adds `amount` to the counter `name` with `labels` (in the order given).
    public func increment(_ name: String, labels: [(String, String)], by amount: UInt64 = 1) {
        let key = Self.render(labels: labels)
        state.withLock { state in
            state.counters[name, default: [:]][key, default: 0] += amount
        }
    }

    /// Records one observation of `value` in the histogram `name`.
    public func observe(_ name: String, value: Double, labels: [(String, String)]) {
        guard let position = familyIndex[name] else { return }
        let buckets = families[position].buckets
        let key = Self.render(labels: labels)
        state.withLock { state in
            var histogram = state.histograms[name]?[key] ?? Histogram(bucketCounts: Array(repeating: 0, count: buckets.count))
            for (index, bound) in buckets.enumerated() where value <= bound { histogram.bucketCounts[index] += 1 }
            histogram.count += 1
            histogram.sum += value
            state.histograms[name, default: [:]][key] = histogram
        }
    }

    /// The value of a counter (0 when never incremented); for tests and readiness logic.
    public func counterValue(_ name: String, labels: [(String, String)]) -> UInt64 {
        let key = Self.render(labels: labels)
        return state.withLock { $0.counters[name]?[key] ?? 0 }
    }

    /// The Prometheus text exposition of every declared family, series sorted for stable output.
    public func render() -> String {
        let snapshot = state.withLock { $0 }
        var output = ""
        for family in families {
            output += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.kind.rawValue)\n"
            switch family.kind {
            case .counter:
                for (labels, value) in (snapshot.counters[family.name] ?? [:]).sorted(by: { $0.key < $1.key }) {
                    output += "\(family.name)\(labels) \(value)\n"
                }
            case .histogram:
                for (labels, histogram) in (snapshot.histograms[family.name] ?? [:]).sorted(by: { $0.key < $1.key }) {
                    let inner = labels.isEmpty ? "" : String(labels.dropFirst().dropLast()) + ","
                    for (index, bound) in family.buckets.enumerated() {
                        output += "\(family.name)_bucket{\(inner)le=\"\(Self.format(bound))\"} \(histogram.bucketCounts[index])\n"
                    }
                    output += "\(family.name)_bucket{\(inner)le=\"+Inf\"} \(histogram.count)\n"
                    output += "\(family.name)_sum\(labels) \(Self.format(histogram.sum))\n"
                    output += "\(family.name)_count\(labels) \(histogram.count)\n"
                }
            }
        }
        return output
    }

    static func render(labels: [(String, String)]) -> String {
        guard !labels.isEmpty else { return "" }
        var text = "{"
        for (index, (name, value)) in labels.enumerated() {
            if index > 0 { text += "," }
            text += name + "=\"" + escape(value) + "\""
        }
        return text + "}"
    }

    /// Label values escape backslash, quote and newline, as the exposition format requires.
    static func escape(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == 0x5C || $0 == 0x22 || $0 == 0x0A }) else { return value }
        var result = ""
        for character in value {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
