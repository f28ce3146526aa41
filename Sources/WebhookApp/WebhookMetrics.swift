import AdmissionControl

/// The webhook's Prometheus metrics: PSA's own families (same names and labels as the built-in plugin's),
/// plus the HTTP request count and latency histogram PSA's plugin gets from the apiserver.
public struct WebhookMetrics: Sendable {
    public let registry: MetricsRegistry

    public static let requestDuration = "pod_security_webhook_request_duration_seconds"
    public static let requests = "pod_security_webhook_requests_total"

    public init() {
        registry = MetricsRegistry(families: [
            .init(name: "pod_security_evaluations_total",
                  help: "Number of policy evaluations that occurred, not counting ignored or exempt requests.", kind: .counter),
            .init(name: "pod_security_exemptions_total", help: "Number of exempt requests, not counting ignored or out of scope requests.",
                  kind: .counter),
            .init(name: "pod_security_errors_total", help: "Number of errors preventing normal evaluation. Non-fatal errors may result in the latest restricted profile being used for evaluation.",
                  kind: .counter),
            .init(name: Self.requests, help: "Admission requests answered, by HTTP status code.", kind: .counter),
            .init(name: Self.requestDuration, help: "Time from a complete request body to its response, in seconds, by kind of request.",
                  kind: .histogram,
                  buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
        ])
    }

    /// What a request records, as the cache keys it: the registry renders each label set once.
    private enum SeriesKey: Hashable, Sendable {
        case admission(AdmissionMetricEvent)
        case requests(status: Int)
        case duration(kind: String)

        /// Hashes each label's length and first byte, not its text: hashing an evaluation's seven label
        /// strings was most of the cost of recording a request. `==` still compares every label; label sets
        /// the summary does not tell apart (as `v1.2x` versions) only share a hash.
        func hash(into hasher: inout Hasher) {
            switch self {
            case let .admission(.evaluation(decision, level, version, mode, operation, resource, subresource)):
                hasher.combine(Self.summary(decision) << 48 | Self.summary(level) << 32 | Self.summary(version) << 16 | Self.summary(mode))
                hasher.combine(Self.summary(operation) << 32 | Self.summary(resource) << 16 | Self.summary(subresource))
            case let .admission(.exemption(operation, resource, subresource)):
                hasher.combine(Self.summary(operation) << 32 | Self.summary(resource) << 16 | Self.summary(subresource))
            case let .admission(.error(fatal, operation, resource, subresource)):
                hasher.combine(fatal)
                hasher.combine(Self.summary(operation) << 32 | Self.summary(resource) << 16 | Self.summary(subresource))
            case .requests(let status):
                hasher.combine(status)
            case .duration(let kind):
                hasher.combine(kind)
            }
        }

        /// A label's length (mod 256) and first byte, in the low 16 bits. (Read from the string's bytes in
        /// place: `utf8.first` on a small string cost ~40 instructions, 14 labels a denied request.)
        private static func summary(_ label: String) -> UInt64 {
            label.utf8.withContiguousStorageIfAvailable { bytes in
                UInt64(UInt8(truncatingIfNeeded: bytes.count)) << 8 | UInt64(bytes.first ?? 0)
            } ?? (UInt64(UInt8(truncatingIfNeeded: label.utf8.count)) << 8 | UInt64(label.utf8.first ?? 0))
        }
    }

    /// Label values come from a small set in practice, but operation, subresource and kind are the request's.
    static let seriesCacheCapacity = 256

    /// A thread group's share of the recording: its series cache and the series of the request it recorded
    /// last, under one lock.
    private struct Shard: Sendable {
        var cache = SeriesCache<SeriesKey>(capacity: WebhookMetrics.seriesCacheCapacity)
        var last = LastRequest()
    }

    /// What the shard's previous request recorded, with its series. Most requests repeat it (the same
    /// decision, policy, operation and kind), and comparing label sets costs less than hashing them (the
    /// cache's three lookups and the events' copies were ~2k instructions a request).
    private struct LastRequest: Sendable {
        var events: [AdmissionMetricEvent] = []
        var eventSeries: [MetricsRegistry.Series?] = []
        var status: Int?
        var statusSeries: MetricsRegistry.Series?
        var kind: String?
        var kindSeries: MetricsRegistry.Series?
    }

    private let shards = ThreadSharded(count: 16) { Shard() }

    /// Records what one admission request produced, with its status and duration, in one update.
    public func record(_ events: [AdmissionMetricEvent], status: Int, kind: String, seconds: Double) {
        let registry = registry
        registry.record { recorder in
            shards.withCurrent { shard in
                if events != shard.last.events {
                    var eventSeries: [MetricsRegistry.Series?] = []
                    eventSeries.reserveCapacity(events.count)
                    for event in events {
                        eventSeries.append(shard.cache.series(.admission(event)) {
                            registry.series(event.name, labels: event.labels.map { ($0.name, $0.value) })
                        })
                    }
                    shard.last.events = events
                    shard.last.eventSeries = eventSeries
                }
                for series in shard.last.eventSeries {
                    if let series { recorder.increment(series) }
                }
                if status != shard.last.status {
                    shard.last.statusSeries = shard.cache.series(.requests(status: status)) {
                        registry.series(Self.requests, labels: [("code", String(status))])
                    }
                    shard.last.status = status
                }
                if let series = shard.last.statusSeries { recorder.increment(series) }
                if kind != shard.last.kind {
                    shard.last.kindSeries = shard.cache.series(.duration(kind: kind)) {
                        registry.series(Self.requestDuration, labels: [("kind", kind.isEmpty ? "unknown" : kind)])
                    }
                    shard.last.kind = kind
                }
                if let series = shard.last.kindSeries { recorder.observe(series, value: seconds) }
            }
        }
    }

    /// How many label sets the series caches hold; for tests.
    var cachedSeriesCount: Int {
        var count = 0
        shards.forEach { count += $0.cache.count }
        return count
    }

    /// The Prometheus text exposition.
    public func render() -> String { registry.render() }
}
