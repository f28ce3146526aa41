import Glibc

/// Which of `count` shards the calling thread uses: the same one every time for a thread, and spread
/// across threads (thread IDs are stack addresses, so the low 12 bits are dropped).
enum ThreadShard {
    static func index(count: Int) -> Int {
        Int(UInt(bitPattern: Int(bitPattern: UInt(pthread_self())) >> 12) % UInt(count))
    }
}
