import Glibc

/// Registered series by a caller's own key (a label set it sees again and again), so that recording costs
/// one hash lookup instead of rendering label text. Sharded by thread like the registry, so lookups never
/// share a lock. Keys come from request data, so each shard keeps at most `capacity` of them; past that a
/// key is looked up in the registry every time (slower, still counted right).
final class SeriesCache<Key: Hashable & Sendable>: @unchecked Sendable {  // shard state is only touched under its mutex
    fileprivate final class Shard {
        /// Allocated, not a stored `var`: locking a stored mutex is an `inout` access, checked for exclusivity
        /// at run time on every lock and unlock.
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        /// Mutated through one `inout` access per `withLookup(_:)`, not one exclusivity check per lookup.
        var lookup: Lookup
        init(capacity: Int) {
            lookup = Lookup(capacity: capacity)
            mutex.initialize(to: pthread_mutex_t())
            pthread_mutex_init(mutex, nil)
        }
        deinit {
            pthread_mutex_destroy(mutex)
            mutex.deallocate()
        }
    }

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
    private let shards: [Shard]

    init(capacity: Int, shards: Int = 16) {
        self.capacity = capacity
        self.shards = (0..<max(1, shards)).map { _ in Shard(capacity: capacity) }
    }

    /// Runs `body` under one lock of this thread's shard.
    func withLookup<T>(_ body: (inout Lookup) -> T) -> T {
        let shard = shards[ThreadShard.index(count: shards.count)]
        pthread_mutex_lock(shard.mutex)
        defer { pthread_mutex_unlock(shard.mutex) }
        return body(&shard.lookup)
    }

    /// How many keys are cached, over all shards; for tests.
    var count: Int {
        shards.reduce(0) { total, shard in
            pthread_mutex_lock(shard.mutex)
            defer { pthread_mutex_unlock(shard.mutex) }
            return total + shard.lookup.series.count
        }
    }
}
