#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a pthread mutex, with a condition to wait for changes.
/// `@unchecked Sendable`: every access to `value` holds the mutex.
final class Guarded<Value>: @unchecked Sendable {
    private var value: Value
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if canImport(Glibc)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access; wakes waiters afterwards when `body` says it changed something
    /// worth waiting for (`signal: true`).
    func withLock<Result>(signal: Bool = false, _ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer {
            if signal { pthread_cond_broadcast(condition) }
            pthread_mutex_unlock(mutex)
        }
        return try body(&value)
    }

    /// Waits until `predicate` holds or `timeoutSeconds` pass (nil = forever); returns whether it holds.
    func wait(timeoutSeconds: Double? = nil, until predicate: (Value) -> Bool) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        var deadline = timespec()
        if let timeoutSeconds {
            clock_gettime(CLOCK_MONOTONIC, &deadline)
            let total = Double(deadline.tv_sec) + Double(deadline.tv_nsec) / 1e9 + max(0, timeoutSeconds)
            deadline.tv_sec = Int(total)
            deadline.tv_nsec = Int((total - Double(Int(total))) * 1e9)
        }
        while !predicate(value) {
            if timeoutSeconds == nil {
                pthread_cond_wait(condition, mutex)
            } else if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT {
                return predicate(value)
            }
        }
        return true
    }
}

/// Text of `errno`.
func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }
