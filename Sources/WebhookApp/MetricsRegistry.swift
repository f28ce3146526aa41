import Glibc

/// Prometheus counters and histograms, rendered in the text exposition format.
///
/// Every request records a few samples, from many connection threads at once, so the registry is sharded:
/// a thread updates the shard its thread ID picks, under that shard's plain (non-PI) mutex, once per batch,
/// and `render()` adds the shards up. Label sets are rendered to their exposition text outside any lock.
public final class MetricsRegistry: @unchecked Sendable {  // shard state is only touched under its mutex
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

    private final class HistogramSeries {
        var bucketCounts: [UInt64]
        var count: UInt64 = 0
        var sum: Double = 0
        init(buckets: Int) { bucketCounts = Array(repeating: 0, count: buckets) }
    }

    private final class Shard {
        var mutex = pthread_mutex_t()
        /// family name -> rendered label set -> value
        var counters: [String: [String: UInt64]] = [:]
        var histograms: [String: [String: HistogramSeries]] = [:]
        init() { pthread_mutex_init(&mutex, nil) }
        deinit { pthread_mutex_destroy(&mutex) }
        func withLock<T>(_ body: () -> T) -> T {
            pthread_mutex_lock(&mutex)
            defer { pthread_mutex_unlock(&mutex) }
            return body()
        }
    }

    private let families: [Family]
    private let familyIndex: [String: Int]
    private let shards: [Shard]

    /// A registry that knows `families`; updates to undeclared names are ignored.
    public init(families: [Family], shards: Int = 16) {
        self.families = families
        var index: [String: Int] = [:]
        for (position, family) in families.enumerated() { index[family.name] = position }
        self.familyIndex = index
        self.shards = (0..<max(1, shards)).map { _ in Shard() }
    }

    /// Applies `samples` together, under one lock of this thread's shard.
    public func record(_ samples: [Sample]) {
        let shard = shards[Int(UInt(bitPattern: Int(bitPattern: UInt(pthread_self())) >> 12) % UInt(shards.count))]
        shard.withLock {
            for sample in samples {
                switch sample {
                case .increment(let name, let labels, let amount):
                    guard familyIndex[name] != nil else { continue }
                    shard.counters[name, default: [:]][labels, default: 0] += amount
                case .observe(let name, let labels, let value):
                    guard let position = familyIndex[name] else { continue }
                    let buckets = families[position].buckets
                    let series: HistogramSeries
                    if let existing = shard.histograms[name]?[labels] {
                        series = existing
                    } else {
                        series = HistogramSeries(buckets: buckets.count)
                        shard.histograms[name, default: [:]][labels] = series
                    }
                    for (index, bound) in buckets.enumerated() where value <= bound { series.bucketCounts[index] += 1 }
                    series.count += 1
                    series.sum += value
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
        let key = Self.render(labels: labels)
        return shards.reduce(0) { total, shard in total + shard.withLock { shard.counters[name]?[key] ?? 0 } }
    }

    /// The Prometheus text exposition of every declared family, series sorted for stable output.
    public func render() -> String {
        var counters: [String: [String: UInt64]] = [:]
        var histograms: [String: [String: (buckets: [UInt64], count: UInt64, sum: Double)]] = [:]
        for shard in shards {
            shard.withLock {
                for (name, series) in shard.counters {
                    for (labels, value) in series { counters[name, default: [:]][labels, default: 0] += value }
                }
                for (name, series) in shard.histograms {
                    for (labels, histogram) in series {
                        var total = histograms[name]?[labels]
                            ?? (buckets: Array(repeating: 0, count: histogram.bucketCounts.count), count: 0, sum: 0)
                        for index in histogram.bucketCounts.indices { total.buckets[index] += histogram.bucketCounts[index] }
                        total.count += histogram.count
                        total.sum += histogram.sum
                        histograms[name, default: [:]][labels] = total
                    }
                }
            }
        }
        var output = ""
        for family in families {
            output += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.kind.rawValue)\n"
            switch family.kind {
            case .counter:
                for (labels, value) in (counters[family.name] ?? [:]).sorted(by: { $0.key < $1.key }) {
                    output += "\(family.name)\(labels) \(value)\n"
                }
            case .histogram:
                for (labels, histogram) in (histograms[family.name] ?? [:]).sorted(by: { $0.key < $1.key }) {
                    let inner = labels.isEmpty ? "" : String(labels.dropFirst().dropLast()) + ","
                    for (index, bound) in family.buckets.enumerated() {
                        output += "\(family.name)_bucket{\(inner)le=\"\(Self.format(bound))\"} \(histogram.buckets[index])\n"
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
