#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CTLSShim

/// A value behind a pthread mutex (shared by the server, the Kubernetes client and this module). Hold it only
/// inside `withLock`, never across I/O. `@unchecked Sendable`: every access to `value` goes through `withLock`.
public final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
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
public final class SocketDescriptor: Sendable {
    public let fd: Int32
    private let closed = Locked(false)

    /// Takes ownership of `fd`.
    public init(_ fd: Int32) { self.fd = fd }

    /// shutdown(2) both directions; reads in progress return end of stream. No effect once closed.
    public func shutdownBoth() {
        closed.withLock { closed in if !closed { _ = shutdown(fd, Int32(SHUT_RDWR)) } }
    }

    /// shutdown(2) the sending direction: the peer reads end of stream; we can still read.
    public func shutdownWrite() {
        closed.withLock { closed in if !closed { _ = shutdown(fd, Int32(SHUT_WR)) } }
    }

    /// close(2), once.
    public func close() {
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

/// Starts a detached OS thread running `body`: event loops, accept and watch loops, handlers that block and
/// log flushers must not occupy Dispatch workers, which starve on 2 cores. False when no thread could start.
@discardableResult
public func startDetachedThread(stackBytes: Int = 256 * 1024, _ body: @escaping @Sendable () -> Void) -> Bool {
    final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    pthread_attr_setstacksize(&attributes, max(stackBytes, 256 * 1024))
    #if canImport(Glibc)
    var thread = pthread_t()
    #else
    var thread: pthread_t?
    #endif
    let result = pthread_create(&thread, &attributes, { raw in
        #if canImport(Glibc)
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        #else
        let box = Unmanaged<Box>.fromOpaque(raw).takeRetainedValue()
        #endif
        box.body()
        return nil
    }, context)
    if result != 0 {
        Unmanaged<Box>.fromOpaque(context).release()
        return false
    }
    return true
}

/// Text of `errno`.
func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }
