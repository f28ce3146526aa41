import Foundation
import StrictJSON
import WebhookApp
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
}
