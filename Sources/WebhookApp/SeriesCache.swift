/// Registered series by a caller's own key (a label set it sees again and again), so that recording costs
/// one hash lookup instead of rendering label text. Kept per shard by its owner (`WebhookMetrics`), under
/// the shard's lock. Keys come from request data, so it keeps at most `capacity` of them; past that a key is
/// looked up in the registry every time (slower, still counted right).
struct SeriesCache<Key: Hashable & Sendable>: Sendable {
    let capacity: Int
    private(set) var series: [Key: MetricsRegistry.Series?] = [:]

    init(capacity: Int) { self.capacity = capacity }

    /// The series for `key`: cached, or `register()`ed and cached while there is room.
    mutating func series(_ key: Key, register: () -> MetricsRegistry.Series?) -> MetricsRegistry.Series? {
        if let cached = series[key] { return cached }
        let series = register()
        if self.series.count < capacity { self.series[key] = series }
        return series
    }

    /// How many keys are cached.
    var count: Int { series.count }
}
