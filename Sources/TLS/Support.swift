#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CTLSShim

/// A value behind a pthread mutex. `@unchecked Sendable`: every access to `value` goes through `withLock`.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

/// A point on the monotonic clock (CLOCK_MONOTONIC), for deadlines that wall-clock changes cannot move.
public struct MonotonicInstant: Sendable, Hashable, Comparable {
    /// Nanoseconds since an arbitrary fixed point (boot).
    public let nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static func now() -> MonotonicInstant { MonotonicInstant(nanoseconds: ctls_monotonic_ns()) }

    /// This instant moved by `seconds` (may be negative).
    public func advanced(bySeconds seconds: Double) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: nanoseconds &+ Int64(seconds * 1_000_000_000))
    }

    /// Seconds from `self` to `other` (negative when `other` is earlier).
    public func seconds(to other: MonotonicInstant) -> Double { Double(other.nanoseconds &- nanoseconds) / 1_000_000_000 }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}

/// A socket descriptor that another thread may shut down (to unblock a read) without racing its close:
/// both happen under one lock, so a shutdown never reaches a descriptor number that was closed and reused.
final class SocketDescriptor: Sendable {
    let fd: Int32
    private let closed = Locked(false)

    init(_ fd: Int32) { self.fd = fd }

    /// shutdown(2) both directions; reads in progress return end of stream. No effect once closed.
    func shutdownBoth() {
        closed.withLock { closed in if !closed { _ = shutdown(fd, Int32(SHUT_RDWR)) } }
    }

    /// shutdown(2) the sending direction: the peer reads end of stream; we can still read.
    func shutdownWrite() {
        closed.withLock { closed in if !closed { _ = shutdown(fd, Int32(SHUT_WR)) } }
    }

    /// close(2), once.
    func close() {
        closed.withLock { closed in
            if !closed {
                #if canImport(Glibc)
                _ = Glibc.close(fd)
                #else
                _ = Darwin.close(fd)
                #endif
            }
            closed = true
        }
    }
}

/// Text of `errno`.
func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }
