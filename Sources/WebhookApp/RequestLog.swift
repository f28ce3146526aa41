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
public final class RequestLog: @unchecked Sendable {  // `shared` under `mutex`, the descriptor written under `writeMutex`
    private let descriptor: Int32
    private let flushIntervalSeconds: Double
    private let maxPendingBytes: Int
    // The mutexes, the condition and the shared state by pointer: a class's stored `var`s are checked for
    // exclusive access at run time on every use (four checks per queued line cost ~430 instructions), and
    // these are only ever used under `mutex` anyway.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// Signals the flusher that 64 KiB are pending (it writes at once instead of at the interval).
    private let batchReady: UnsafeMutablePointer<pthread_cond_t>
    /// Taken before `mutex` is released by whoever took the pending bytes, so batches are written in the
    /// order they were taken while other threads go on queueing lines during the write.
    private let writeMutex: UnsafeMutablePointer<pthread_mutex_t>
    private let shared: UnsafeMutablePointer<Shared>

    /// What `mutex` guards.
    private struct Shared {
        var pending: [UInt8] = []
        var droppedLines = 0
        var flusherStarted = false
    }

    static let batchBytes = 64 * 1024

    public init(descriptor: Int32 = STDOUT_FILENO, flushIntervalSeconds: Double = 0.1,
                maxPendingBytes: Int = 4 * 1024 * 1024) {
        self.descriptor = descriptor
        self.flushIntervalSeconds = flushIntervalSeconds
        self.maxPendingBytes = maxPendingBytes
        mutex = .allocate(capacity: 1)
        writeMutex = .allocate(capacity: 1)
        batchReady = .allocate(capacity: 1)
        shared = .allocate(capacity: 1)
        shared.initialize(to: Shared())
        pthread_mutex_init(mutex, nil)
        pthread_mutex_init(writeMutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(batchReady, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        flush()
        pthread_cond_destroy(batchReady)
        pthread_mutex_destroy(mutex)
        pthread_mutex_destroy(writeMutex)
        shared.deinitialize(count: 1)
        for pointer in [UnsafeMutableRawPointer(mutex), UnsafeMutableRawPointer(writeMutex),
                        UnsafeMutableRawPointer(batchReady), UnsafeMutableRawPointer(shared)] {
            pointer.deallocate()
        }
    }

    /// Writes `fields` (in order) as one JSON line, with a `time` field first, now (after anything pending).
    /// Waits for the descriptor: for lifecycle lines, not for request paths.
    public func write(_ fields: [(String, JSONValue)]) {
        let line = Self.line(fields)
        pthread_mutex_lock(mutex)
        shared.pointee.pending.append(contentsOf: line)
        writePendingAndUnlock()
    }

    /// Queues one line; it is written within `flushIntervalSeconds`. Never waits on the descriptor.
    public func writeBuffered(_ fields: [(String, JSONValue)]) {
        Self.line(fields).withUnsafeBufferPointer { enqueue($0) }
    }

    /// Queues one line built field by field (no JSON tree); it is written within `flushIntervalSeconds`.
    /// Never waits on the descriptor.
    public func writeBuffered(_ line: consuming Line) {
        line.close()
        line.withBytes { enqueue($0) }
    }

    /// Lines dropped so far because the descriptor was not keeping up (reported in the log when it is again).
    public var droppedLineCount: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return shared.pointee.droppedLines
    }

    /// Appends `line` (whole, with its newline) to what is pending.
    private func enqueue(_ line: UnsafeBufferPointer<UInt8>) {
        pthread_mutex_lock(mutex)
        let startFlusher = !shared.pointee.flusherStarted
        shared.pointee.flusherStarted = true
        if shared.pointee.pending.count + line.count + 1 > maxPendingBytes {
            shared.pointee.droppedLines += 1
        } else {
            shared.pointee.pending.append(contentsOf: line)
            if shared.pointee.pending.count >= Self.batchBytes { pthread_cond_signal(batchReady) }
        }
        pthread_mutex_unlock(mutex)
        if startFlusher { startFlushThread() }
    }

    /// Writes everything pending (waiting for the descriptor).
    public func flush() {
        pthread_mutex_lock(mutex)
        writePendingAndUnlock()
    }

    /// Takes the pending bytes (and a note of dropped lines) and writes them, holding `mutex` (locked by the
    /// caller) only until the write's turn is secured, not during the write.
    private func writePendingAndUnlock() {
        if shared.pointee.droppedLines > 0 {
            let note = Self.line([("msg", .string("request log lines dropped: the log output was not keeping up")),
                                  ("dropped", .number(JSONNumber(shared.pointee.droppedLines)))])
            shared.pointee.pending.append(contentsOf: note)
            shared.pointee.droppedLines = 0
        }
        guard !shared.pointee.pending.isEmpty else {
            pthread_mutex_unlock(mutex)
            return
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(shared.pointee.pending.capacity, 2 * Self.batchBytes))
        swap(&bytes, &shared.pointee.pending)
        pthread_mutex_lock(writeMutex)
        pthread_mutex_unlock(mutex)
        writeAll(bytes)
        pthread_mutex_unlock(writeMutex)
    }

    /// Waits up to the interval, or until a batch is ready, then writes what is pending (the flusher's step).
    fileprivate func flushWhenDue() {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let nanoseconds = deadline.tv_nsec + Int(max(0.001, flushIntervalSeconds) * 1e9)
        deadline.tv_sec += nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        pthread_mutex_lock(mutex)
        while shared.pointee.pending.count < Self.batchBytes {
            if pthread_cond_timedwait(batchReady, mutex, &deadline) == ETIMEDOUT { break }
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
    ///
    /// Its bytes are its own allocation, not an array: each array append checks uniqueness and capacity, and a
    /// line is a dozen fields of several appends each. A field reserves its room once, then writes by pointer.
    public struct Line: ~Copyable {
        /// The line so far, open: `{"time":"...","key":value`; `capacity` bytes allocated, `count` written.
        private var start: UnsafeMutablePointer<UInt8>
        private var count = 0
        private var capacity: Int

        /// A line whose `time` is now.
        public init() {
            self.init(capacity: 512)
        }

        /// A line whose `time` is now, with room for `capacity` bytes at first (a long field's, say, so that
        /// the line is not grown and copied while it is written). Its memory is the thread's spare line buffer
        /// when that is large enough, and the timestamp's text up to the second is the thread's last one when
        /// the second is the same (`ThreadScratch`: a malloc, a free and the civil date's arithmetic were ~500
        /// instructions a request line).
        init(capacity: Int) {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let seconds = Int(now.tv_sec)
            let scratch = ThreadScratch.current
            let wanted = max(capacity, 64)
            if let spare = scratch.pointee.spare, scratch.pointee.spareCapacity >= wanted {
                start = spare
                self.capacity = scratch.pointee.spareCapacity
                scratch.pointee.spare = nil
            } else {
                start = .allocate(capacity: wanted)
                self.capacity = wanted
            }
            appendLiteral(#"{"time":""#)
            count += RequestLog.writeTimestamp(seconds: seconds, nanoseconds: Int(now.tv_nsec), to: start + count,
                                               reusing: &scratch.pointee)
            start[count] = UInt8(ascii: "\"")
            count += 1
        }

        /// A line whose `time` is `seconds` and `nanoseconds` after the Unix epoch.
        init(seconds: Int, nanoseconds: Int, capacity: Int = 512) {
            self.capacity = max(capacity, 64)
            start = .allocate(capacity: self.capacity)
            appendLiteral(#"{"time":""#)
            count += RequestLog.writeTimestamp(seconds: seconds, nanoseconds: nanoseconds, to: start + count)
            start[count] = UInt8(ascii: "\"")
            count += 1
        }

        /// The memory becomes the thread's spare line buffer if it has none (up to `ThreadScratch.maxSpareBytes`).
        deinit {
            let scratch = ThreadScratch.current
            if scratch.pointee.spare == nil && capacity <= ThreadScratch.maxSpareBytes {
                scratch.pointee.spare = start
                scratch.pointee.spareCapacity = capacity
            } else {
                start.deallocate()
            }
        }

        /// A string, escaped by `JSONWriter` straight into the line (no quoted copy first).
        public mutating func append(_ key: StaticString, _ value: String) {
            // The string's own storage, read in place (`withUTF8` would need a copy of the string, retained).
            let isWritten = value.utf8.withContiguousStorageIfAvailable { text in
                // Room for the text as it is; more is made if escapes outgrow it.
                reserve(key.utf8CodeUnitCount + text.count + 6 + JSONWriter.escapeStepRoom)
                writeKey(key)
                start[count] = UInt8(ascii: "\"")
                count += 1
                var read = 0
                if JSONWriter.writeIfPlain(text, to: start + count) {
                    count += text.count
                    read = text.count
                }
                while read < text.count {
                    // One byte kept back for the closing quote.
                    let step = JSONWriter.writeEscaped(text, from: read, to: start + count, room: capacity - count - 1)
                    read = step.read
                    count += step.written
                    if read < text.count { reserve(2 * (text.count - read) + JSONWriter.escapeStepRoom + 1) }
                }
                start[count] = UInt8(ascii: "\"")
                count += 1
                return true
            } ?? false
            if !isWritten {
                // A string not stored as UTF-8 (bridged), made native first.
                var native = value
                native.makeContiguousUTF8()
                append(key, native)
            }
        }

        /// Bytes that are already JSON, copied as they are: constant fields such as `,"msg":"admission"`, written
        /// as one literal instead of a key and a string checked for escapes (~230 instructions a field). It must
        /// be what `append` writes for those fields (a test compares them).
        @inline(__always)
        mutating func appendLiteral(_ literal: StaticString) {
            reserve(literal.utf8CodeUnitCount)
            Self.copyShort(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount), to: start + count)
            count += literal.utf8CodeUnitCount
        }

        /// A string already quoted as `JSONWriter` quotes it, `bytes[range]`, copied in.
        mutating func append(_ key: StaticString, quoted bytes: borrowing [UInt8], _ range: Range<Int>) {
            reserve(key.utf8CodeUnitCount + 4 + range.count)
            writeKey(key)
            bytes.withUnsafeBufferPointer { write(UnsafeBufferPointer(rebasing: $0[range])) }
        }

        /// An integer, as `JSONNumber(value)` writes it.
        public mutating func append(_ key: StaticString, _ value: Int) {
            reserve(key.utf8CodeUnitCount + 4 + 21)
            writeKey(key)
            if value < 0 {
                start[count] = UInt8(ascii: "-")
                count += 1
            }
            count += RequestLog.writeDecimal(value.magnitude, minimumDigits: 1, to: start + count)
        }

        public mutating func append(_ key: String, _ value: JSONValue) {
            var field: [UInt8] = [UInt8(ascii: ",")]
            JSONWriter.appendQuoted(key, to: &field)
            field.append(UInt8(ascii: ":"))
            JSONWriter.append(value, to: &field)
            reserve(field.count)
            field.withUnsafeBufferPointer { write($0) }
        }

        /// Writes `,"key":`. A literal key is copied as it is: it must be one JSONWriter would not escape
        /// (checked in debug builds). The room is reserved by the caller. Inlined, the key copied by words:
        /// a call here and one to memcpy cost more than the dozen bytes written.
        @inline(__always)
        private mutating func writeKey(_ key: StaticString) {
            let text = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
            assert({
                var quoted: [UInt8] = []
                JSONWriter.appendQuoted(key.description, to: &quoted)
                return quoted == [UInt8(ascii: "\"")] + Array(text) + [UInt8(ascii: "\"")]
            }(), "log key \(key) needs escaping")
            start[count] = UInt8(ascii: ",")
            start[count + 1] = UInt8(ascii: "\"")
            count += 2
            Self.copyShort(text, to: start + count)
            count += text.count
            start[count] = UInt8(ascii: "\"")
            start[count + 1] = UInt8(ascii: ":")
            count += 2
        }

        /// Copies `bytes` to `target` by two overlapping loads and stores of 16, 8 or 4 bytes (memcpy past 32).
        @inline(__always)
        private static func copyShort(_ bytes: UnsafeBufferPointer<UInt8>, to target: UnsafeMutablePointer<UInt8>) {
            guard let source = bytes.baseAddress else { return }
            let count = bytes.count
            let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(target)
            func copy<Word>(_: Word.Type) {
                to.storeBytes(of: from.loadUnaligned(as: Word.self), as: Word.self)
                let last = count - MemoryLayout<Word>.size
                to.storeBytes(of: from.loadUnaligned(fromByteOffset: last, as: Word.self), toByteOffset: last, as: Word.self)
            }
            switch count {
            case 16...32: copy(SIMD16<UInt8>.self)
            case 8..<16: copy(UInt64.self)
            case 4..<8: copy(UInt32.self)
            case 0..<4: for index in 0..<count { target[index] = source[index] }
            default: target.initialize(from: source, count: count)
            }
        }

        /// Makes room for `extra` more bytes, doubling.
        private mutating func reserve(_ extra: Int) {
            guard count + extra > capacity else { return }
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: max(2 * capacity, count + extra))
            grown.initialize(from: start, count: count)
            start.deallocate()
            start = grown
            capacity = max(2 * capacity, count + extra)
        }

        /// Copies `bytes` in; the room is reserved by the caller.
        private mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard let source = bytes.baseAddress else { return }
            (start + count).initialize(from: source, count: bytes.count)
            count += bytes.count
        }

        /// Ends the line: `}` and a newline.
        fileprivate mutating func close() {
            reserve(2)
            start[count] = UInt8(ascii: "}")
            start[count + 1] = 0x0A
            count += 2
        }

        fileprivate func withBytes<T>(_ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
            body(UnsafeBufferPointer(start: start, count: count))
        }

        /// The line's bytes, closed and ended with a newline.
        func finished() -> [UInt8] {
            withBytes { Array($0) } + [UInt8(ascii: "}"), 0x0A]
        }
    }

    /// What a thread's request log lines reuse: a line's memory, and the timestamp text of the last second.
    /// Reached through a pthread key (one thread's, never shared, so no lock), freed when the thread ends.
    struct ThreadScratch {
        /// The second `prefix` is the text of (`Int.min`: none yet).
        var second = Int.min
        /// `2026-11-22T13:40:00`, `prefixCount` bytes of it; 32 bytes, `maxTimestampBytes`.
        var prefix: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var prefixCount = 0
        var spare: UnsafeMutablePointer<UInt8>?
        var spareCapacity = 0

        /// A denial's line is a few KiB; a larger one is not kept.
        static let maxSpareBytes = 16 * 1024

        private static let key: pthread_key_t = {
            var key = pthread_key_t()
            let created = pthread_key_create(&key) { pointer in
                guard let pointer else { return }
                let scratch = pointer.assumingMemoryBound(to: ThreadScratch.self)
                scratch.pointee.spare?.deallocate()
                scratch.deinitialize(count: 1)
                scratch.deallocate()
            }
            precondition(created == 0, "cannot create the request log's thread key")
            return key
        }()

        /// The calling thread's scratch, made on first use.
        static var current: UnsafeMutablePointer<ThreadScratch> {
            let key = key
            if let pointer = pthread_getspecific(key) { return pointer.assumingMemoryBound(to: ThreadScratch.self) }
            let scratch = UnsafeMutablePointer<ThreadScratch>.allocate(capacity: 1)
            scratch.initialize(to: ThreadScratch())
            pthread_setspecific(key, scratch)
            return scratch
        }
    }

    /// `writeTimestamp`'s bytes, the text up to the second copied from `scratch` when it holds that second's
    /// (32 bytes are written at `output`, `maxTimestampBytes`), else written whole and kept there.
    @inline(__always)
    static func writeTimestamp(seconds: Int, nanoseconds: Int, to output: UnsafeMutablePointer<UInt8>,
                               reusing scratch: inout ThreadScratch) -> Int {
        let milliseconds = nanoseconds / 1_000_000
        guard milliseconds >= 0 && milliseconds <= 999 else {
            return writeTimestamp(seconds: seconds, nanoseconds: nanoseconds, to: output)
        }
        if seconds != scratch.second {
            // A new second: written whole, and its text up to the `.` kept for the rest of the second.
            let written = writeTimestamp(seconds: seconds, nanoseconds: nanoseconds, to: output)
            scratch.second = seconds
            scratch.prefixCount = written - 5  // `.mmmZ` is the rest
            withUnsafeMutableBytes(of: &scratch.prefix) { prefix in
                prefix.baseAddress!.copyMemory(from: output, byteCount: written - 5)
            }
            return written
        }
        withUnsafeBytes(of: &scratch.prefix) { prefix in
            UnsafeMutableRawPointer(output).copyMemory(from: prefix.baseAddress!, byteCount: 32)
        }
        let count = scratch.prefixCount
        output[count] = UInt8(ascii: ".")
        output[count + 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: milliseconds / 100)
        writeDigits(milliseconds % 100, to: output + count + 2)
        output[count + 4] = UInt8(ascii: "Z")
        return count + 5
    }

    /// Appends RFC 3339 UTC time with milliseconds (see `writeTimestamp`), for tests.
    static func appendTimestamp(seconds: Int, nanoseconds: Int, to bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxTimestampBytes) { buffer in
            let written = writeTimestamp(seconds: seconds, nanoseconds: nanoseconds, to: buffer.baseAddress!)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<written]))
        }
    }

    /// The longest timestamp: a year of up to 12 digits (`Int.max` seconds), then 20 bytes.
    static let maxTimestampBytes = 32

    /// Appends RFC 3339 UTC time with milliseconds, e.g. `2026-11-22T13:40:00.123Z`, for a time after the epoch. The civil date is computed from the
    /// day number (Howard Hinnant's `civil_from_days`), not by `gmtime_r`, which takes glibc's time zone
    /// lock on every call.
    /// Returns the count written, at most `maxTimestampBytes`.
    static func writeTimestamp(seconds: Int, nanoseconds: Int, to output: UnsafeMutablePointer<UInt8>) -> Int {
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
        var count: Int
        if year >= 0 && year <= 9_999 {
            writeDigits(year / 100, to: output)
            writeDigits(year % 100, to: output + 2)
            count = 4
        } else {
            count = writeDecimal(UInt(max(0, year)), minimumDigits: 4, to: output)
        }
        /// Writes `separator`, then `value` (below 100) in two digits.
        func write(_ separator: Unicode.Scalar, _ value: Int) {
            output[count] = UInt8(ascii: separator)
            writeDigits(value, to: output + count + 1)
            count += 3
        }
        write("-", month)
        write("-", day)
        write("T", secondOfDay / 3_600)
        write(":", secondOfDay / 60 % 60)
        write(":", secondOfDay % 60)
        let milliseconds = nanoseconds / 1_000_000
        output[count] = UInt8(ascii: ".")
        if milliseconds >= 0 && milliseconds <= 999 {
            output[count + 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: milliseconds / 100)
            writeDigits(milliseconds % 100, to: output + count + 2)
            count += 4
        } else {
            count += 1 + writeDecimal(UInt(max(0, milliseconds)), minimumDigits: 3, to: output + count + 1)
        }
        output[count] = UInt8(ascii: "Z")
        return count + 1
    }

    /// Writes `value` (0...99) as two digits: fixed-width fields need no digit count (`writeDecimal`'s loops
    /// were most of a timestamp's cost).
    @inline(__always)
    static func writeDigits(_ value: Int, to output: UnsafeMutablePointer<UInt8>) {
        output[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value / 10)
        output[1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10)
    }

    /// Writes `value` in decimal, zero-padded to `minimumDigits`, at `output`; returns the count written.
    static func writeDecimal(_ value: UInt, minimumDigits: Int, to output: UnsafeMutablePointer<UInt8>) -> Int {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        let count = max(digits, minimumDigits)
        rest = value
        for position in (0..<count).reversed() {
            output[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        return count
    }
}
