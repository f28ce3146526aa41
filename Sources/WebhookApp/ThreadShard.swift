import Glibc
import Synchronization

/// Which of `count` shards the calling thread uses: the same one every time for a thread, and spread
/// across threads (thread IDs are stack addresses, so the low 12 bits are dropped).
enum ThreadShard {
    static func index(count: Int) -> Int {
        Int(UInt(bitPattern: Int(bitPattern: UInt(pthread_self())) >> 12) % UInt(count))
    }
}

/// `count` values, each behind a `Mutex` of its own, one picked per thread (`ThreadShard`): threads that
/// share a shard take turns, the others never meet. (A `Mutex` in a class's `let`: TLS's `Locked`, a class
/// `var` behind a pthread mutex, cost a run-time exclusivity check and a lock call, ~180 instructions a use.)
final class ThreadSharded<Value>: Sendable {
    private final class Shard: Sendable {
        let value: Mutex<Value>
        init(_ value: sending Value) { self.value = Mutex(value) }
    }

    private let shards: [Shard]

    init(count: Int, _ makeValue: () -> sending Value) {
        shards = (0..<max(1, count)).map { _ in Shard(makeValue()) }
    }

    /// Runs `body` on this thread's shard, under its lock.
    func withCurrent<Result>(_ body: (inout sending Value) -> sending Result) -> sending Result {
        shards[ThreadShard.index(count: shards.count)].value.withLock(body)
    }

    /// Runs `body` on every shard in turn, each under its lock (not all at once).
    func forEach(_ body: (inout sending Value) -> Void) {
        for shard in shards { shard.value.withLock { body(&$0) } }
    }
}
