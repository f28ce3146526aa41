import Glibc
import StrictJSON
import TLS

/// Writes one JSON object per line to a file descriptor (stdout by default), whole lines only, so lines from
/// concurrent requests never interleave. Lifecycle lines (`write`) go out at once; per-request lines
/// (`writeBuffered`) are collected and written together by a flusher thread at most `flushIntervalSeconds`
/// later (sooner past 64 KiB), as klog does: one `write` per request cost the server about 15% of its
/// throughput.
///
/// `writeBuffered` never waits on the descriptor: the server's event loops call it, and a stdout that stops
/// draining (a stuck log pipe) must not stop admission. Past `maxPendingBytes` lines are dropped and counted,
/// and the flusher says how many once it can write again.
public final class RequestLog: @unchecked Sendable {  // `pending` and `droppedLines` under `mutex`, the descriptor written under `writeMutex`
    private let descriptor: Int32
    private let flushIntervalSeconds: Double
    private let maxPendingBytes: Int
    private var mutex = pthread_mutex_t()
    /// Signals the flusher that 64 KiB are pending (it writes at once instead of at the interval).
    private var batchReady = pthread_cond_t()
    /// Taken before `mutex` is released by whoever took the pending bytes, so batches are written in the
    /// order they were taken while other threads go on queueing lines during the write.
    private var writeMutex = pthread_mutex_t()
    private var pending: [UInt8] = []
    private var droppedLines = 0
    private var flusherStarted = false

    static let batchBytes = 64 * 1024

    public init(descriptor: Int32 = STDOUT_FILENO, flushIntervalSeconds: Double = 0.1,
                maxPendingBytes: Int = 4 * 1024 * 1024) {
        self.descriptor = descriptor
        self.flushIntervalSeconds = flushIntervalSeconds
        self.maxPendingBytes = maxPendingBytes
        pthread_mutex_init(&mutex, nil)
        pthread_mutex_init(&writeMutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(&batchReady, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        flush()
        pthread_cond_destroy(&batchReady)
        pthread_mutex_destroy(&mutex)
        pthread_mutex_destroy(&writeMutex)
    }

    /// Writes `fields` (in order) as one JSON line, with a `time` field first, now (after anything pending).
    /// Waits for the descriptor: for lifecycle lines, not for request paths.
    public func write(_ fields: [(String, JSONValue)]) {
        let line = Self.line(fields)
        pthread_mutex_lock(&mutex)
        pending.append(contentsOf: line)
        writePendingAndUnlock()
    }

    /// Queues one line; it is written within `flushIntervalSeconds`. Never waits on the descriptor.
    public func writeBuffered(_ fields: [(String, JSONValue)]) {
        enqueue(Self.line(fields))
    }

    /// Queues one line built field by field (no JSON tree); it is written within `flushIntervalSeconds`.
    /// Never waits on the descriptor.
    public func writeBuffered(_ line: Line) {
        enqueue(line.bytes, closed: false)
    }

    /// Lines dropped so far because the descriptor was not keeping up (reported in the log when it is again).
    public var droppedLineCount: Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return droppedLines
    }

    /// Appends `line` to what is pending; an open line (a `Line`'s bytes) is closed here, sparing its copy.
    private func enqueue(_ line: [UInt8], closed: Bool = true) {
        pthread_mutex_lock(&mutex)
        let startFlusher = !flusherStarted
        flusherStarted = true
        if pending.count + line.count + 1 > maxPendingBytes {
            droppedLines += 1
        } else {
            pending.append(contentsOf: line)
            if !closed { pending.append(contentsOf: Line.end) }
            if pending.count >= Self.batchBytes { pthread_cond_signal(&batchReady) }
        }
        pthread_mutex_unlock(&mutex)
        if startFlusher { startFlushThread() }
    }

    /// Writes everything pending (waiting for the descriptor).
    public func flush() {
        pthread_mutex_lock(&mutex)
        writePendingAndUnlock()
    }

    /// Takes the pending bytes (and a note of dropped lines) and writes them, holding `mutex` (locked by the
    /// caller) only until the write's turn is secured, not during the write.
    private func writePendingAndUnlock() {
        if droppedLines > 0 {
            let note = Self.line([("msg", .string("request log lines dropped: the log output was not keeping up")),
                                  ("dropped", .number(JSONNumber(droppedLines)))])
            pending.append(contentsOf: note)
            droppedLines = 0
        }
        guard !pending.isEmpty else {
            pthread_mutex_unlock(&mutex)
            return
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(pending.capacity, 2 * Self.batchBytes))
        swap(&bytes, &pending)
        pthread_mutex_lock(&writeMutex)
        pthread_mutex_unlock(&mutex)
        writeAll(bytes)
        pthread_mutex_unlock(&writeMutex)
    }

    /// Waits up to the interval, or until a batch is ready, then writes what is pending (the flusher's step).
    fileprivate func flushWhenDue() {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let nanoseconds = deadline.tv_nsec + Int(max(0.001, flushIntervalSeconds) * 1e9)
        deadline.tv_sec += nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        pthread_mutex_lock(&mutex)
        while pending.count < Self.batchBytes {
            if pthread_cond_timedwait(&batchReady, &mutex, &deadline) == ETIMEDOUT { break }
        }
        writePendingAndUnlock()
    }

    /// The thread that writes the buffered lines while the log exists.
    private func startFlushThread() {
        let loop = FlushLoop(log: self)
        startDetachedThread { loop.run() }
    }

    /// The flusher's state: a weak reference, so the thread ends when the log goes away.
    private final class FlushLoop: @unchecked Sendable {  // immutable after init
        weak var log: RequestLog?
        init(log: RequestLog) { self.log = log }
        func run() {
            while let log {
                log.flushWhenDue()
            }
        }
    }

    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return  // logging must never take the server down
                }
                offset += written
            }
        }
    }

    static func line(_ fields: [(String, JSONValue)]) -> [UInt8] {
        var line = Line()
        for (key, value) in fields { line.append(key, value) }
        return line.finished()
    }

    /// One log line's bytes, written as they come: the same bytes as the JSON object `{"time": ..., fields...}`
    /// written by `JSONWriter` (its string escaping, compact), without building the object first.
    public struct Line {
        /// The line so far, open: `{"time":"...","key":value`.
        fileprivate private(set) var bytes: [UInt8] = []
        fileprivate static let end: [UInt8] = [UInt8(ascii: "}"), 0x0A]

        /// A line whose `time` is now.
        public init() {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            self.init(seconds: Int(now.tv_sec), nanoseconds: Int(now.tv_nsec))
        }

        /// A line whose `time` is `seconds` and `nanoseconds` after the Unix epoch.
        init(seconds: Int, nanoseconds: Int) {
            bytes.reserveCapacity(512)
            bytes.append(contentsOf: #"{"time":""#.utf8)
            RequestLog.appendTimestamp(seconds: seconds, nanoseconds: nanoseconds, to: &bytes)
            bytes.append(UInt8(ascii: "\""))
        }

        public mutating func append(_ key: StaticString, _ value: String) {
            appendKey(key)
            JSONWriter.appendQuoted(value, to: &bytes)
        }

        /// An integer, as `JSONNumber(value)` writes it.
        public mutating func append(_ key: StaticString, _ value: Int) {
            appendKey(key)
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            RequestLog.appendDecimal(value.magnitude, minimumDigits: 1, to: &bytes)
        }

        public mutating func append(_ key: String, _ value: JSONValue) {
            appendKey(key)
            JSONWriter.append(value, to: &bytes)
        }

        private mutating func appendKey(_ key: String) {
            bytes.append(UInt8(ascii: ","))
            JSONWriter.appendQuoted(key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
        }

        /// A literal key is copied as it is: it must be one JSONWriter would not escape (checked in debug builds).
        private mutating func appendKey(_ key: StaticString) {
            let text = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
            assert({
                var quoted: [UInt8] = []
                JSONWriter.appendQuoted(key.description, to: &quoted)
                return quoted == [UInt8(ascii: "\"")] + Array(text) + [UInt8(ascii: "\"")]
            }(), "log key \(key) needs escaping")
            bytes.append(UInt8(ascii: ","))
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: text)
            bytes.append(UInt8(ascii: "\""))
            bytes.append(UInt8(ascii: ":"))
        }

        /// The line's bytes, closed and ended with a newline.
        func finished() -> [UInt8] {
            bytes + Self.end
        }
    }

    /// Appends RFC 3339 UTC time with milliseconds, e.g. `2026-11-22T13:40:00.123Z`, for a time after the epoch. The civil date is computed from the
    /// day number (Howard Hinnant's `civil_from_days`), not by `gmtime_r`, which takes glibc's time zone
    /// lock on every call.
    static func appendTimestamp(seconds: Int, nanoseconds: Int, to bytes: inout [UInt8]) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let shifted = days + 719_468  // days since 0000-03-01
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        appendDecimal(UInt(max(0, year)), minimumDigits: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDecimal(UInt(month), minimumDigits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDecimal(UInt(day), minimumDigits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        appendDecimal(UInt(secondOfDay / 3_600), minimumDigits: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDecimal(UInt(secondOfDay / 60 % 60), minimumDigits: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDecimal(UInt(secondOfDay % 60), minimumDigits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        appendDecimal(UInt(nanoseconds / 1_000_000), minimumDigits: 3, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// Appends `value` in decimal, zero-padded to `minimumDigits`.
    static func appendDecimal(_ value: UInt, minimumDigits: Int, to bytes: inout [UInt8]) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var count = 0
            var rest = value
            repeat {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            while count < minimumDigits && count < 20 {
                buffer[19 - count] = UInt8(ascii: "0")
                count += 1
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(20 - count)...]))
        }
    }
}
