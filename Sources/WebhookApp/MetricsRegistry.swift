import TLS

/// Prometheus counters and histograms, rendered in the text exposition format.
///
/// Every request records a few samples, from several event-loop and handler threads at once, so the registry is sharded:
/// a thread updates the shard its thread ID picks, under that shard's plain (non-PI) mutex, once per batch,
/// and `render()` adds the shards up. A label set is rendered to its exposition text once, when its series
/// is registered; after that a hot path records by `Series` (array indexes, no strings), and callers that
/// see the same label sets again keep their series in a `SeriesCache`.
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

    /// One family with one label set, registered: what a hot path records by.
    public struct Series: Sendable, Hashable {
        /// The family's position in the registry's declaration.
        let family: Int
        /// The series' position in every shard's value arrays.
        let slot: Int
    }

    /// One update, its labels already rendered (`{a="x",b="y"}`).
    public enum Sample: Sendable {
        case increment(name: String, labels: String, by: UInt64)
        case observe(name: String, labels: String, value: Double)

        public static func increment(_ name: String, labels: [(String, String)], by amount: UInt64 = 1) -> Sample {
            .increment(name: name, labels: MetricsRegistry.render(labels: labels), by: amount)
        }

        public static func observe(_ name: String, value: Double, labels: [(String, String)]) -> Sample {
            .observe(name: name, labels: MetricsRegistry.render(labels: labels), value: value)
        }
    }

    /// A histogram's counts per bucket, not cumulative (the value's first bucket only; the last one is +Inf);
    /// `render()` accumulates them.
    fileprivate struct HistogramValues {
        var bucketCounts: [UInt64]
        var sum: Double = 0
        init(buckets: Int) { bucketCounts = Array(repeating: 0, count: buckets + 1) }
    }

    /// Updates to this thread's shard, lent to the body of the `record(_:)` call under the shard's lock.
    public struct Recorder: Sendable {
        /// nil: never counted in this shard (a series is shown once counted, even by 0).
        fileprivate var counts: [UInt64?] = []
        fileprivate var histograms: [HistogramValues?] = []
        fileprivate let buckets: [[Double]]

        fileprivate init(buckets: [[Double]]) { self.buckets = buckets }

        /// Adds `amount` to the counter `series`.
        public mutating func increment(_ series: Series, by amount: UInt64 = 1) {
            if series.slot >= counts.count {
                counts.append(contentsOf: repeatElement(nil, count: series.slot + 1 - counts.count))
            }
            counts[series.slot] = (counts[series.slot] ?? 0) &+ amount
        }

        /// Records one observation of `value` in the histogram `series`.
        public mutating func observe(_ series: Series, value: Double) {
            if series.slot >= histograms.count {
                histograms.append(contentsOf: repeatElement(nil, count: series.slot + 1 - histograms.count))
            }
            let bounds = buckets[series.family]
            if histograms[series.slot] == nil { histograms[series.slot] = HistogramValues(buckets: bounds.count) }
            var bucket = 0
            while bucket < bounds.count && !(value <= bounds[bucket]) { bucket += 1 }
            histograms[series.slot]!.bucketCounts[bucket] &+= 1
            histograms[series.slot]!.sum += value
        }
    }

    private let families: [Family]
    private let familyIndex: [String: Int]
    /// One thread group's values each, indexed by `Series.slot`; slots a shard has not seen yet are past its end.
    private let shards: ThreadSharded<Recorder>
    private let registered = Locked(RegisteredSeries())

    private struct RegisteredSeries {
        /// Every registered series, by slot: its family and rendered label set.
        var table: [(family: Int, labels: String)] = []
        var slots: [SeriesName: Int] = [:]
    }

    private struct SeriesName: Hashable {
        var family: Int
        var labels: String
    }

    /// A registry that knows `families`; updates to undeclared names are ignored.
    public init(families: [Family], shards: Int = 16) {
        self.families = families
        var index: [String: Int] = [:]
        for (position, family) in families.enumerated() { index[family.name] = position }
        self.familyIndex = index
        let buckets = families.map(\.buckets)
        self.shards = ThreadSharded(count: shards) { Recorder(buckets: buckets) }
    }

    /// The series of family `name` with `labels` (in the order given), registered on first use; nil when
    /// the family is not declared.
    public func series(_ name: String, labels: [(String, String)]) -> Series? {
        series(name, renderedLabels: Self.render(labels: labels))
    }

    private func series(_ name: String, renderedLabels: String) -> Series? {
        guard let family = familyIndex[name] else { return nil }
        let key = SeriesName(family: family, labels: renderedLabels)
        return registered.withLock { registered in
            if let slot = registered.slots[key] { return Series(family: family, slot: slot) }
            let slot = registered.table.count
            registered.table.append((family, renderedLabels))
            registered.slots[key] = slot
            return Series(family: family, slot: slot)
        }
    }

    /// Runs `body` under one lock of this thread's shard: a request's updates go in together.
    public func record(_ body: (inout Recorder) -> Void) {
        shards.withCurrent { body(&$0) }
    }

    /// Applies `samples` together, under one lock of this thread's shard (their series looked up first).
    public func record(_ samples: [Sample]) {
        let resolved = samples.map { sample -> (Series?, Sample) in
            switch sample {
            case .increment(let name, let labels, _), .observe(let name, let labels, _):
                (series(name, renderedLabels: labels), sample)
            }
        }
        record { recorder in
            for case let (series?, sample) in resolved {
                switch sample {
                case .increment(_, _, let amount): recorder.increment(series, by: amount)
                case .observe(_, _, let value): recorder.observe(series, value: value)
                }
            }
        }
    }

    /// Adds `amount` to the counter `name` with `labels` (in the order given).
    public func increment(_ name: String, labels: [(String, String)], by amount: UInt64 = 1) {
        record([.increment(name, labels: labels, by: amount)])
    }

    /// Records one observation of `value` in the histogram `name`.
    public func observe(_ name: String, value: Double, labels: [(String, String)]) {
        record([.observe(name, value: value, labels: labels)])
    }

    /// The value of a counter (0 when never incremented), summed over shards; for tests.
    public func counterValue(_ name: String, labels: [(String, String)]) -> UInt64 {
        guard let series = series(name, labels: labels) else { return 0 }
        var total: UInt64 = 0
        shards.forEach { recorder in
            total += series.slot < recorder.counts.count ? recorder.counts[series.slot] ?? 0 : 0
        }
        return total
    }

    /// The Prometheus text exposition of every declared family, series sorted for stable output.
    public func render() -> String {
        let table = registered.withLock(\.table)
        var counts = [UInt64?](repeating: nil, count: table.count)
        var histograms = [HistogramValues?](repeating: nil, count: table.count)
        shards.forEach { recorder in
            for (slot, value) in recorder.counts.enumerated() where slot < table.count {
                if let value { counts[slot] = (counts[slot] ?? 0) &+ value }
            }
            for (slot, values) in recorder.histograms.enumerated() where slot < table.count {
                guard let values else { continue }
                var total = histograms[slot] ?? HistogramValues(buckets: values.bucketCounts.count - 1)
                for index in values.bucketCounts.indices { total.bucketCounts[index] += values.bucketCounts[index] }
                total.sum += values.sum
                histograms[slot] = total
            }
        }
        var output = ""
        for (position, family) in families.enumerated() {
            output += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.kind.rawValue)\n"
            let members = table.indices.filter { table[$0].family == position }.sorted { table[$0].labels < table[$1].labels }
            switch family.kind {
            case .counter:
                // A series appears once something was counted in it, not when it was registered.
                for slot in members {
                    guard let count = counts[slot] else { continue }
                    output += "\(family.name)\(table[slot].labels) \(count)\n"
                }
            case .histogram:
                for slot in members {
                    guard let histogram = histograms[slot] else { continue }
                    let labels = table[slot].labels
                    let inner = labels.isEmpty ? "" : String(labels.dropFirst().dropLast()) + ","
                    var cumulative: UInt64 = 0
                    for (index, bound) in family.buckets.enumerated() {
                        cumulative += histogram.bucketCounts[index]
                        output += "\(family.name)_bucket{\(inner)le=\"\(Self.format(bound))\"} \(cumulative)\n"
                    }
                    let count = cumulative + histogram.bucketCounts[family.buckets.count]
                    output += "\(family.name)_bucket{\(inner)le=\"+Inf\"} \(count)\n"
                    output += "\(family.name)_sum\(labels) \(Self.format(histogram.sum))\n"
                    output += "\(family.name)_count\(labels) \(count)\n"
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
