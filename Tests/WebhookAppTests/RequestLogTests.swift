import Glibc
import Foundation
import StrictJSON
@testable import WebhookApp
import XCTest

final class RequestLogTests: XCTestCase {
    func testBufferedLinesAreWrittenSoonInOrderAndWholeLines() throws {
        let pipe = Pipe()
        let log = RequestLog(descriptor: pipe.fileHandleForWriting.fileDescriptor, flushIntervalSeconds: 0.05)
        log.write([("msg", .string("starting"))])
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for index in 0..<50 { log.writeBuffered([("worker", .number(JSONNumber(worker))), ("i", .number(JSONNumber(index)))]) }
        }
        // Without any flush call, the flusher writes them within its interval.
        Thread.sleep(forTimeInterval: 0.5)
        log.write([("msg", .string("stopped"))])
        try pipe.fileHandleForWriting.close()
        let lines = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").map { try? JSONParser.parse(String($0)) }
        XCTAssertEqual(lines.count, 202)
        XCTAssertTrue(lines.allSatisfy { $0 != nil }, "every line is whole JSON")
        XCTAssertEqual(lines.first??["msg"], .string("starting"))
        XCTAssertEqual(lines.last??["msg"], .string("stopped"))
        for worker in 0..<4 {
            let indexes = lines.compactMap { $0 }.filter { $0["worker"] == .number(JSONNumber(worker)) }.compactMap { $0["i"]?.numberValue?.int64 }
            XCTAssertEqual(indexes, (0..<50).map(Int64.init), "worker \(worker)'s lines in order")
        }
    }

    /// A log output that stops draining (a full pipe nobody reads) never blocks `writeBuffered`: lines past the
    /// cap are dropped and counted, and once the output drains the flusher says how many.
    func testStuckOutputNeverBlocksBufferedLinesAndDropsAreReported() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]) }
        let log = RequestLog(descriptor: fds[1], flushIntervalSeconds: 0.01, maxPendingBytes: 64 * 1024)
        // Far more than the pipe (64 KiB) plus the cap holds; nobody reads yet.
        let line = [("msg", JSONValue.string(String(repeating: "x", count: 200)))]
        for _ in 0..<5_000 { log.writeBuffered(line) }
        // Drain the pipe on another thread: every line is either written or counted in a report of drops.
        // (The drops are checked in the reports, not with `droppedLineCount` now: the flusher may already
        // have taken the count into a report.)
        let reader = fds[0]
        let accounted = DispatchSemaphore(value: 0)
        let dropsReported = DropsReported()
        Thread {
            var pendingBytes: [UInt8] = []
            var written = 0
            var reportedDrops = 0
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(reader, &buffer, buffer.count)
                if count <= 0 { return }
                pendingBytes += buffer[0..<count]
                while let newline = pendingBytes.firstIndex(of: 10) {
                    let text = String(decoding: pendingBytes[..<newline], as: UTF8.self)
                    pendingBytes.removeSubrange(...newline)
                    guard let object = try? JSONParser.parse(text) else { continue }
                    if let dropped = object["dropped"]?.numberValue?.int64 {
                        XCTAssertEqual(object["msg"], .string("request log lines dropped: the log output was not keeping up"))
                        reportedDrops += Int(dropped)
                    } else {
                        written += 1
                    }
                }
                if written + reportedDrops == 5_000 {
                    dropsReported.count = reportedDrops
                    accounted.signal()
                    return
                }
            }
        }.start()
        XCTAssertEqual(accounted.wait(timeout: .now() + 10), .success, "every line was written or reported dropped")
        // 5,000 lines of ~230 bytes cannot fit in the pipe (64 KiB), the flusher's hand and the cap (64 KiB).
        XCTAssertGreaterThan(dropsReported.count, 0, "lines past the cap were dropped, not queued without bound")
        XCTAssertEqual(log.droppedLineCount, 0)
        close(fds[1])
    }

    func testImmediateWriteFlushesWhatIsPendingFirst() throws {
        let pipe = Pipe()
        let log = RequestLog(descriptor: pipe.fileHandleForWriting.fileDescriptor, flushIntervalSeconds: 60)
        log.writeBuffered([("n", .number(JSONNumber(1)))])
        log.write([("n", .number(JSONNumber(2)))])
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let order = text.split(separator: "\n").compactMap { try? JSONParser.parse(String($0))["n"]?.numberValue?.int64 }
        XCTAssertEqual(order, [1, 2])
    }

    /// A line written field by field has the bytes of the same object written by JSONWriter: escaping of
    /// quotes, backslashes, control characters, `<>&`, U+2028/U+2029 (and not of other E2 sequences or other
    /// non-ASCII text), and integers as JSONNumber writes them.
    func testLineBytesAreThoseOfTheJSONObject() {
        let strings = ["", "plain", "quote\" backslash\\ slash/", "\u{0}\u{1}\u{8}\t\n\u{B}\u{C}\r\u{1F}\u{7F}",
                       "<script>&amp;</script>", "line\u{2028}para\u{2029}end", "euro € quote ‘x’ ellipsis …",
                       "é 日本 🚀", String(repeating: "long run without escapes ", count: 20) + "\""]
        let integers = [0, 7, -1, 403, Int.max, Int.min]
        var line = RequestLog.Line(seconds: 1_700_000_000, nanoseconds: 123_456_789)
        var members = [JSONObject.Member(key: "time", value: .string("2023-11-14T22:13:20.123Z"))]
        let keys: [StaticString] = ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"]
        for (key, string) in zip(keys, strings) {
            line.append(key, string)
            members.append(.init(key: key.description, value: .string(string)))
        }
        for (key, integer) in zip(keys, integers) {
            line.append(key, integer)
            members.append(.init(key: key.description, value: .number(JSONNumber(integer))))
        }
        XCTAssertEqual(members.count, 1 + strings.count + integers.count)
        line.append("k\"ey\n", .string("v"))
        members.append(.init(key: "k\"ey\n", value: .string("v")))
        line.append("tree", .array([.bool(true), .null, .string("\u{2028}")]))
        members.append(.init(key: "tree", value: .array([.bool(true), .null, .string("\u{2028}")])))
        XCTAssertEqual(String(decoding: line.finished(), as: UTF8.self),
                       String(decoding: JSONValue.object(JSONObject(members)).serialized() + [0x0A], as: UTF8.self))
    }

    /// The request log's constant field, written as a literal, is what `append` writes for it.
    func testAdmissionLiteralIsTheAppendedField() {
        var appended = RequestLog.Line(seconds: 1_700_000_000, nanoseconds: 0)
        appended.append("msg", "admission")
        appended.append("uid", "u")
        var literal = RequestLog.Line(seconds: 1_700_000_000, nanoseconds: 0, capacity: 8)
        literal.appendLiteral(#","msg":"admission""#)
        literal.append("uid", "u")
        XCTAssertEqual(String(decoding: literal.finished(), as: UTF8.self),
                       String(decoding: appended.finished(), as: UTF8.self))
    }

    /// The admission line's fields written as literals when they hold their common values (`writeLine`) are
    /// what `append` writes for those values.
    func testCommonValueLiteralsAreTheAppendedFields() {
        let fields: [(key: StaticString, value: String, literal: StaticString)] = [
            ("kind", "Pod", #","kind":"Pod""#),
            ("operation", "CREATE", #","operation":"CREATE""#),
            ("operation", "UPDATE", #","operation":"UPDATE""#),
            ("decision", "allow", #","decision":"allow""#),
            ("decision", "deny", #","decision":"deny""#),
            ("message", "", #","message":"""#),
        ]
        for field in fields {
            var appended = RequestLog.Line(seconds: 1_700_000_000, nanoseconds: 0)
            appended.append(field.key, field.value)
            var literal = RequestLog.Line(seconds: 1_700_000_000, nanoseconds: 0)
            literal.appendLiteral(field.literal)
            XCTAssertEqual(String(decoding: literal.finished(), as: UTF8.self),
                           String(decoding: appended.finished(), as: UTF8.self), "\(field.key)")
        }
        var appended = RequestLog.Line(seconds: 1_700_000_000, nanoseconds: 0)
        appended.append("status", 200)
        var literal = RequestLog.Line(seconds: 1_700_000_000, nanoseconds: 0)
        literal.appendLiteral(#","status":200"#)
        XCTAssertEqual(String(decoding: literal.finished(), as: UTF8.self), String(decoding: appended.finished(), as: UTF8.self))
    }

    /// Values whose escapes outgrow the room first reserved for them (the line's buffer is grown while they
    /// are written): the bytes are still those JSONWriter writes.
    func testLongValuesNeedingEscapesAreThoseOfJSONWriter() {
        let message = "pods \"web-7d4b9c6f8-k8s2d\" is forbidden: violates PodSecurity \"restricted:latest\": "
            + String(repeating: "allowPrivilegeEscalation != false (containers \"migrate\", \"web\" must set it), ", count: 12)
        let values = [message, String(repeating: "\u{1}", count: 1_000), String(repeating: "<\u{2028}>", count: 300),
                      String(repeating: "x", count: 600) + "\n", "\"", "é\u{2029}"]
        for value in values {
            var line = RequestLog.Line(seconds: 1_700_000_000, nanoseconds: 0)
            line.append("msg", value)
            line.append("after", "a\tb")
            var expected = Array(#"{"time":"2023-11-14T22:13:20.000Z","msg":"#.utf8)
            JSONWriter.appendQuoted(value, to: &expected)
            expected += Array(#","after":"#.utf8)
            JSONWriter.appendQuoted("a\tb", to: &expected)
            XCTAssertEqual(line.finished(), expected + Array("}\n".utf8), value.debugDescription)
            // The same value copied already quoted (from a response body) gives the same line.
            var body = Array(#"{"message":"#.utf8)
            let start = body.count
            JSONWriter.appendQuoted(value, to: &body)
            let end = body.count
            body += Array("}".utf8)
            var copied = RequestLog.Line(seconds: 1_700_000_000, nanoseconds: 0)
            copied.append("msg", quoted: body, start..<end)
            copied.append("after", "a\tb")
            XCTAssertEqual(copied.finished(), expected + Array("}\n".utf8), value.debugDescription)
        }
    }

    func testTimestampsAcrossSecondDayYearAndLeapBoundaries() {
        let cases: [(Int, Int, String)] = [
            (1_700_000_000, 999_999_999, "2023-11-14T22:13:20.999Z"),
            (1_700_000_001, 0, "2023-11-14T22:13:21.000Z"),
            (1_700_000_001, 1_000_000, "2023-11-14T22:13:21.001Z"),
            (946_684_799, 999_000_000, "1999-12-31T23:59:59.999Z"),
            (946_684_800, 0, "2000-01-01T00:00:00.000Z"),
            (951_782_400, 50_000_000, "2000-02-29T00:00:00.050Z"),
            (4_107_542_399, 0, "2100-02-28T23:59:59.000Z"),
            (4_107_542_400, 0, "2100-03-01T00:00:00.000Z"),
            (0, 0, "1970-01-01T00:00:00.000Z"),
            (253_402_300_799, 0, "9999-12-31T23:59:59.000Z"),
            (253_402_300_800, 0, "10000-01-01T00:00:00.000Z"),  // past the four-digit fast path
            (1_700_000_001, 9_000_000, "2023-11-14T22:13:21.009Z"),
            (1_700_000_001, 90_000_000, "2023-11-14T22:13:21.090Z"),
        ]
        for (seconds, nanoseconds, expected) in cases {
            var bytes: [UInt8] = []
            RequestLog.appendTimestamp(seconds: seconds, nanoseconds: nanoseconds, to: &bytes)
            XCTAssertEqual(String(decoding: bytes, as: UTF8.self), expected, "\(seconds).\(nanoseconds)")
        }
    }

    /// The timestamp written from a thread's kept second is the one written whole: for runs of the same second,
    /// a new second, an earlier one, milliseconds at their ends and nanoseconds out of range (written whole).
    func testTimestampsFromTheKeptSecondAreThoseWrittenWhole() {
        var scratch = RequestLog.ThreadScratch()
        let seconds = [0, 0, 1, 1_700_000_000, 1_700_000_000, 1_700_000_001, 1_699_999_999, 253_402_300_800,
                       253_402_300_800, 253_402_300_799, 86_399, 86_400, 951_782_400, 951_782_400]
        let nanoseconds = [0, 999_999_999, 1_000_000, 7_000_000, 123_456_789, 500_000_000, 999_000_000,
                           1_000_000_000, 2_500_000_000, -1]
        for second in seconds {
            for nanosecond in nanoseconds {
                for _ in 0..<2 {
                    let written = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer in
                        let count = RequestLog.writeTimestamp(seconds: second, nanoseconds: nanosecond,
                                                              to: buffer.baseAddress!, reusing: &scratch)
                        return Array(buffer[..<count])
                    }
                    var expected: [UInt8] = []
                    RequestLog.appendTimestamp(seconds: second, nanoseconds: nanosecond, to: &expected)
                    XCTAssertEqual(String(decoding: written, as: UTF8.self), String(decoding: expected, as: UTF8.self),
                                   "\(second).\(nanosecond)")
                }
            }
        }
    }

    /// Lines made in turn on one thread reuse its spare memory (smaller, larger and past the kept size) and
    /// read as the fields written, with a time of now.
    func testLinesReusingTheThreadsMemoryHoldTheirOwnFields() throws {
        for (index, capacity) in [512, 100, 4_096, 600, 64 * 1024, 512, 20_000, 512].enumerated() {
            var before = timespec()
            clock_gettime(CLOCK_REALTIME, &before)
            var line = RequestLog.Line(capacity: capacity)
            let text = String(repeating: "x\(index)", count: capacity / 3)
            line.append("index", index)
            line.append("text", text)
            var after = timespec()
            clock_gettime(CLOCK_REALTIME, &after)
            let bytes = line.finished()
            let object = try JSONParser.parse(String(decoding: bytes, as: UTF8.self))
            XCTAssertEqual(object["index"], .number(JSONNumber(index)))
            XCTAssertEqual(object["text"]?.stringValue, text)
            var low: [UInt8] = [], high: [UInt8] = []
            RequestLog.appendTimestamp(seconds: Int(before.tv_sec), nanoseconds: Int(before.tv_nsec), to: &low)
            RequestLog.appendTimestamp(seconds: Int(after.tv_sec), nanoseconds: Int(after.tv_nsec), to: &high)
            let time = try XCTUnwrap(object["time"]?.stringValue)
            XCTAssertTrue(String(decoding: low, as: UTF8.self) <= time && time <= String(decoding: high, as: UTF8.self), time)
        }
    }

    /// The arithmetic date agrees with gmtime_r (what the log used before) across four centuries, stepping by
    /// a prime number of seconds so every month, hour and minute is visited.
    func testTimestampsAgreeWithGmtime() {
        var seconds = 0
        while seconds < 12_700_000_000 {
            var bytes: [UInt8] = []
            RequestLog.appendTimestamp(seconds: seconds, nanoseconds: 7_000_000, to: &bytes)
            var time = seconds
            var parts = tm()
            gmtime_r(&time, &parts)
            func pad(_ value: Int32, _ width: Int) -> String {
                let text = String(value)
                return String(repeating: "0", count: max(0, width - text.count)) + text
            }
            let expected = "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
                + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).007Z"
            XCTAssertEqual(String(decoding: bytes, as: UTF8.self), expected, "\(seconds)")
            if String(decoding: bytes, as: UTF8.self) != expected { break }
            seconds += 1_000_003
        }
    }
}

/// The drops the reader thread saw reported; read after it signals (the semaphore orders the accesses).
private final class DropsReported: @unchecked Sendable {
    var count = 0
}
