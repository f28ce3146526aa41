import Glibc

/// Registered series by a caller's own key (a label set it sees again and again), so that recording costs
/// one hash lookup instead of rendering label text. Sharded by thread like the registry, so lookups never
/// share a lock. Keys come from request data, so each shard keeps at most `capacity` of them; past that a
/// key is looked up in the registry every time (slower, still counted right).
final class SeriesCache<Key: Hashable & Sendable>: @unchecked Sendable {  // shard state is only touched under its mutex
    fileprivate final class Shard {
        var mutex = pthread_mutex_t()
        var series: [Key: MetricsRegistry.Series?] = [:]
        init() { pthread_mutex_init(&mutex, nil) }
        deinit { pthread_mutex_destroy(&mutex) }
    }

    /// Lookups in this thread's shard, valid only inside the `withLookup(_:)` call that passed it.
    struct Lookup {
        fileprivate let shard: Shard
        fileprivate let capacity: Int

        /// The series for `key`: cached, or `register()`ed and cached while there is room.
        func series(_ key: Key, register: () -> MetricsRegistry.Series?) -> MetricsRegistry.Series? {
            if let cached = shard.series[key] { return cached }
            let series = register()
            if shard.series.count < capacity { shard.series[key] = series }
            return series
        }
    }

    let capacity: Int
    private let shards: [Shard]

    init(capacity: Int, shards: Int = 16) {
        self.capacity = capacity
        self.shards = (0..<max(1, shards)).map { _ in Shard() }
    }

    /// Runs `body` under one lock of this thread's shard.
    func withLookup<T>(_ body: (Lookup) -> T) -> T {
        let shard = shards[ThreadShard.index(count: shards.count)]
        pthread_mutex_lock(&shard.mutex)
        defer { pthread_mutex_unlock(&shard.mutex) }
        return body(Lookup(shard: shard, capacity: capacity))
    }

    /// How many keys are cached, over all shards; for tests.
    var count: Int {
        shards.reduce(0) { total, shard in
            pthread_mutex_lock(&shard.mutex)
            defer { pthread_mutex_unlock(&shard.mutex) }
            return total + shard.series.count
        }
    }
}
