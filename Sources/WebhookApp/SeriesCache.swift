import TLS

/// Registered series by a caller's own key (a label set it sees again and again), so that recording costs
/// one hash lookup instead of rendering label text. Sharded by thread like the registry, so lookups never
/// share a lock. Keys come from request data, so each shard keeps at most `capacity` of them; past that a
/// key is looked up in the registry every time (slower, still counted right).
final class SeriesCache<Key: Hashable & Sendable>: Sendable {
    /// One shard's keys, lent to `withLookup(_:)`'s body under the shard's lock.
    struct Lookup {
        fileprivate let capacity: Int
        fileprivate var series: [Key: MetricsRegistry.Series?] = [:]

        fileprivate init(capacity: Int) { self.capacity = capacity }

        /// The series for `key`: cached, or `register()`ed and cached while there is room.
        mutating func series(_ key: Key, register: () -> MetricsRegistry.Series?) -> MetricsRegistry.Series? {
            if let cached = series[key] { return cached }
            let series = register()
            if self.series.count < capacity { self.series[key] = series }
            return series
        }
    }

    let capacity: Int
    private let shards: [Locked<Lookup>]

    init(capacity: Int, shards: Int = 16) {
        self.capacity = capacity
        self.shards = (0..<max(1, shards)).map { _ in Locked(Lookup(capacity: capacity)) }
    }

    /// Runs `body` under one lock of this thread's shard.
    func withLookup<T>(_ body: (inout Lookup) -> T) -> T {
        shards[ThreadShard.index(count: shards.count)].withLock(body)
    }

    /// How many keys are cached, over all shards; for tests.
    var count: Int {
        shards.reduce(0) { total, shard in total + shard.withLock(\.series.count) }
    }
}
