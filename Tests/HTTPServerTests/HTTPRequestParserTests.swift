import XCTest
@testable import HTTPServer

/// The parser on its own: no sockets.
final class HTTPRequestParserTests: XCTestCase {
    let limits = HTTPParserLimits(maxHeaderBytes: 4096, maxBodyBytes: 4096)

    enum Outcome: Equatable {
        case request(method: String, target: String, body: [UInt8], keepAlive: Bool)
        case failure(Int)
    }

    /// Feeds `input` in pieces of the given sizes (cycled), as a connection would: unconsumed bytes stay
    /// buffered. Returns every outcome and whether the parser is left waiting for more.
    func drive(_ input: [UInt8], pieces: [Int] = [Int.max], limits: HTTPParserLimits? = nil) -> (outcomes: [Outcome], needsMore: Bool) {
        var parser = HTTPRequestParser(limits: limits ?? self.limits)
        var buffered: [UInt8] = []
        var outcomes: [Outcome] = []
        var offset = 0
        var pieceIndex = 0
        while offset < input.count {
            let size = max(1, min(pieces[pieceIndex % pieces.count], input.count - offset))
            pieceIndex += 1
            buffered += input[offset..<(offset + size)]
            offset += size
            parsing: while !buffered.isEmpty {
                let (consumed, event) = buffered.withUnsafeBytes { parser.parse($0) }
                XCTAssertLessThanOrEqual(consumed, buffered.count)
                buffered.removeFirst(consumed)
                switch event {
                case .needMore:
                    break parsing
                case .complete(let request, let keepAlive):
                    XCTAssertLessThanOrEqual(request.body.count, (limits ?? self.limits).maxBodyBytes)
                    outcomes.append(.request(method: request.method, target: request.target, body: request.body,
                                             keepAlive: keepAlive))
                case .failure(let error):
                    outcomes.append(.failure(error.status))
                    return (outcomes, false)
                }
            }
        }
        return (outcomes, true)
    }

    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func testSimpleRequest() {
        let result = drive(bytes("GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n"))
        XCTAssertEqual(result.outcomes, [.request(method: "GET", target: "/a?b=c", body: [], keepAlive: true)])
    }

    func testSameResultWhateverTheSplit() {
        let input = bytes("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
            + "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n"
            + "GET /last HTTP/1.0\r\n\r\n")
        let expected: [Outcome] = [
            .request(method: "POST", target: "/echo", body: bytes("hello"), keepAlive: true),
            .request(method: "POST", target: "/c", body: bytes("abcde"), keepAlive: true),
            .request(method: "GET", target: "/last", body: [], keepAlive: false),
        ]
        for pieces in [[Int.max], [1], [2], [3], [7], [1, 5, 13], [64]] {
            let result = drive(input, pieces: pieces)
            XCTAssertEqual(result.outcomes, expected, "pieces \(pieces)")
        }
    }

    /// A body's storage is reused for the next request's once the request is gone; a request still held
    /// keeps its body as it was (the next one is read into storage of its own).
    func testBodyStorageReusedOnlyWhenFree() {
        var parser = HTTPRequestParser(limits: limits)
        func next(_ body: String, chunked: Bool = false) -> HTTPRequest? {
            let framing = chunked ? "Transfer-Encoding: chunked\r\n\r\n\(String(body.utf8.count, radix: 16))\r\n\(body)\r\n0\r\n\r\n"
                : "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
            return completeRequest(&parser, bytes("POST /r HTTP/1.1\r\nHost: x\r\n" + framing))
        }
        let held = next("first body, held")
        XCTAssertEqual(next("second")?.body, bytes("second"))
        XCTAssertEqual(next("third, longer than the ones before it")?.body, bytes("third, longer than the ones before it"))
        XCTAssertEqual(next("4th", chunked: true)?.body, bytes("4th"))
        XCTAssertEqual(held?.body, bytes("first body, held"))
        let large = String(repeating: "x", count: 3000)
        XCTAssertEqual(next(large)?.body, bytes(large))
        XCTAssertEqual(next("")?.body, [])
    }

    func testHeaderStorageReusedOnlyWhenFree() {
        var parser = HTTPRequestParser(limits: limits)
        func next(_ fields: [(String, String)]) -> HTTPRequest? {
            let head = fields.map { "\($0.0): \($0.1)\r\n" }.joined()
            return completeRequest(&parser, bytes("GET /r HTTP/1.1\r\nHost: x\r\n" + head + "\r\n"))
        }
        func names(_ request: HTTPRequest?) -> [String] { request?.headers.fields.map(\.name) ?? [] }
        func values(_ request: HTTPRequest?) -> [String] { request?.headers.fields.map(\.value) ?? [] }
        let held = next([("A", "first, held"), ("B", "2")])
        let second = next([("Long-Name", String(repeating: "v", count: 200))])
        XCTAssertEqual(names(second), ["Host", "Long-Name"])
        XCTAssertEqual(values(second), ["x", String(repeating: "v", count: 200)])
        XCTAssertEqual(values(next([("C", "3")])), ["x", "3"])  // the second request is gone: its storage reused
        let many = (0..<20).map { ("F\($0)", "value \($0)") }
        XCTAssertEqual(values(next(many)), ["x"] + many.map(\.1))
        XCTAssertEqual(values(next([])), ["x"])
        XCTAssertEqual(names(held), ["Host", "A", "B"])
        XCTAssertEqual(values(held), ["x", "first, held", "2"])
        XCTAssertEqual(held?.headers["b"], "2")
        let large = String(repeating: "y", count: 3000)  // more than the storage held so far
        XCTAssertEqual(values(next([("L", large)])), ["x", large])
        XCTAssertEqual(values(next([("D", "4")])), ["x", "4"])
        // A head with no fields at all after ones with fields: the reused storage holds none of theirs.
        let bare = completeRequest(&parser, bytes("GET /r HTTP/1.0\r\n\r\n"))
        XCTAssertEqual(bare?.headers.count, 0)
        XCTAssertEqual(names(bare), [])
        XCTAssertNil(bare?.headers["D"])
        XCTAssertEqual(values(next([("E", "5")])), ["x", "5"])
        XCTAssertEqual(bare?.headers.count, 0)
    }

    /// The request `input` holds, parsed whole by `parser` (a failure if it is not one complete request).
    private func completeRequest(_ parser: inout HTTPRequestParser, _ input: [UInt8],
                                 file: StaticString = #filePath, line: UInt = #line) -> HTTPRequest? {
        let (consumed, event) = input.withUnsafeBytes { parser.parse($0) }
        XCTAssertEqual(consumed, input.count, file: file, line: line)
        guard case .complete(let request, _) = event else {
            XCTFail("no request for \(String(decoding: input, as: UTF8.self).debugDescription)", file: file, line: line)
            return nil
        }
        return request
    }

    func testHeadersAreCaseInsensitiveAndOrdered() {
        var parser = HTTPRequestParser(limits: limits)
        let input = bytes("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\nX-Empty:\r\nX-Spaces: \t v  \t\r\n\r\n")
        let (_, event) = input.withUnsafeBytes { parser.parse($0) }
        guard case .complete(let request, _) = event else { return XCTFail("\(event)") }
        XCTAssertEqual(request.headers["x-a"], "1")
        XCTAssertEqual(request.headers.values(for: "X-A"), ["1", "2"])
        XCTAssertEqual(request.headers["X-EMPTY"], "")
        XCTAssertEqual(request.headers["x-spaces"], "v")
        XCTAssertEqual(request.headers.fields.map(\.name), ["Host", "X-A", "x-a", "X-Empty", "X-Spaces"])
        XCTAssertNil(request.headers["missing"])
    }

    /// Common methods come out as literals, others as sent; methods are case-sensitive tokens.
    func testMethodsAndTargets() {
        for method in ["GET", "PUT", "POST", "HEAD", "PATCH", "DELETE", "OPTIONS", "get", "Post", "GETX", "PUTS", "M-SEARCH", "X"] {
            let result = drive(bytes("\(method) /p?q=1?2&r HTTP/1.1\r\nHost: x\r\n\r\n"))
            XCTAssertEqual(result.outcomes, [.request(method: method, target: "/p?q=1?2&r", body: [], keepAlive: true)])
        }
        var parser = HTTPRequestParser(limits: limits)
        let input = bytes("GET /a/b?x=%41&y=1?z HTTP/1.1\r\nHost: x\r\n\r\nGET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        let (consumed, event) = input.withUnsafeBytes { parser.parse($0) }
        guard case .complete(let request, _) = event else { return XCTFail("\(event)") }
        XCTAssertEqual(request.path, "/a/b")
        XCTAssertEqual(request.query.map(\.name), ["x", "y"])
        XCTAssertEqual(request.queryValue("y"), "1?z")
        XCTAssertEqual(request.queryValue("x"), "A")
        let (_, second) = Array(input[consumed...]).withUnsafeBytes { parser.parse($0) }
        guard case .complete(let plain, _) = second else { return XCTFail("\(second)") }
        XCTAssertEqual(plain.path, "/plain")
        XCTAssertTrue(plain.query.isEmpty)
        XCTAssertEqual(drive(bytes("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")).outcomes,
                       [.request(method: "OPTIONS", target: "*", body: [], keepAlive: true)])
        XCTAssertEqual(drive(bytes("GET * HTTP/1.1\r\nHost: x\r\n\r\n")).outcomes, [.failure(400)])
    }

    /// A CR inside a line, not followed by LF, is refused wherever it is.
    func testLoneCRIsRefused() {
        for text in ["GET /\r HTTP/1.1\r\nHost: x\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\ry\r\n\r\n",
                     "GET / HTTP/1.1\r\nHost: x\r\nX\r: v\r\n\r\n", "GET / HTTP/1.1\r\r\nHost: x\r\n\r\n"] {
            XCTAssertEqual(drive(bytes(text)).outcomes, [.failure(400)], text.debugDescription)
        }
    }

    /// `firstValue(named:passes:)` sees the first value of the field (any case) as received, obs-text and
    /// invalid UTF-8 unrepaired, and answers false for a missing field without calling the test.
    func testFirstValueReadInPlace() {
        var parser = HTTPRequestParser(limits: limits)
        let input = bytes("GET / HTTP/1.1\r\nHost: x\r\nX-Obs: a") + [0x80, 0xFF, 0xC3, 0x28]
            + bytes("\r\ncontent-TYPE: first\r\nContent-Type: second\r\nX-Empty:\r\n\r\n")
        let (_, event) = input.withUnsafeBytes { parser.parse($0) }
        guard case .complete(let request, _) = event else { return XCTFail("\(event)") }
        var seen: [[UInt8]] = []
        XCTAssertTrue(request.headers.firstValue(named: "Content-Type") { seen.append(Array($0)); return true })
        XCTAssertFalse(request.headers.firstValue(named: "x-obs") { seen.append(Array($0)); return false })
        XCTAssertTrue(request.headers.firstValue(named: "X-EMPTY") { seen.append(Array($0)); return $0.isEmpty })
        XCTAssertFalse(request.headers.firstValue(named: "missing") { _ in XCTFail("called"); return true })
        XCTAssertFalse(request.headers.firstValue(named: "content-typ") { _ in XCTFail("called"); return true })
        XCTAssertEqual(seen, [bytes("first"), bytes("a") + [0x80, 0xFF, 0xC3, 0x28], []])
    }

    /// Field values keep obs-text (bytes 0x80-0xFF): valid UTF-8 as it is, invalid bytes repaired to U+FFFD;
    /// short and long values, empty ones, in any case of name.
    func testFieldValuesAsStrings() {
        var parser = HTTPRequestParser(limits: limits)
        let input = bytes("GET / HTTP/1.1\r\nhOsT: x\r\nX-UTF8: caf\u{e9}\r\nX-Obs: a") + [0x80, 0xFF, 0xC3, 0x28]
            + bytes("\r\nX-Long: a value well over fifteen bytes, caf\u{e9}\r\nX-Empty:   \r\n"
                    + "Content-Lengtx: 5\r\nCONTENT-LENGTH: 0\r\n\r\n")
        let (consumed, event) = input.withUnsafeBytes { parser.parse($0) }
        XCTAssertEqual(consumed, input.count)
        guard case .complete(let request, _) = event else { return XCTFail("\(event)") }
        XCTAssertEqual(request.headers["host"], "x")
        XCTAssertEqual(request.headers["x-utf8"], "caf\u{e9}")
        XCTAssertEqual(request.headers["X-OBS"], "a\u{FFFD}\u{FFFD}\u{FFFD}(")
        XCTAssertEqual(request.headers["x-long"], "a value well over fifteen bytes, caf\u{e9}")
        XCTAssertEqual(request.headers["x-empty"], "")
        XCTAssertEqual(request.headers["content-lengtx"], "5")
        XCTAssertEqual(request.headers.count, 7)
        XCTAssertEqual(request.body, [])
        // Framing fields are recognised in any case, and only by their exact names.
        XCTAssertEqual(drive(bytes("POST / HTTP/1.1\r\nHOST: x\r\ncontent-LENGTH: 2\r\n\r\nok")).outcomes,
                       [.request(method: "POST", target: "/", body: bytes("ok"), keepAlive: true)])
        XCTAssertEqual(drive(bytes("GET / HTTP/1.1\r\nHosts: x\r\n\r\n")).outcomes, [.failure(400)])
        XCTAssertEqual(drive(bytes("GET / HTTP/1.1\r\nHost: x\r\nCONNECTION: Close\r\n\r\n")).outcomes,
                       [.request(method: "GET", target: "/", body: [], keepAlive: false)])
        XCTAssertEqual(drive(bytes("GET / HTTP/1.1\r\nHost: x\r\nEXPECT: 100-continue\r\nX: ")
                             + [0x7F] + bytes("\r\n\r\n")).outcomes, [.failure(400)])
        XCTAssertEqual(drive(bytes("GET / HTTP/1.1\r\nHost: x\r\nExpecT: 101-continue\r\n\r\n")).outcomes, [.failure(417)])
    }

    func testQueryDecoding() {
        let request = HTTPRequest(method: "GET", target: "/validate?timeout=10s&a=b%20c+d&flag&x=%zz&timeout=2")
        XCTAssertEqual(request.path, "/validate")
        XCTAssertEqual(request.queryValue("timeout"), "10s")
        XCTAssertEqual(request.queryValue("a"), "b c d")
        XCTAssertEqual(request.queryValue("flag"), "")
        XCTAssertEqual(request.queryValue("x"), "%zz")
        XCTAssertNil(request.queryValue("nope"))
    }

    func testExpectContinueFlag() {
        var parser = HTTPRequestParser(limits: limits)
        let head = bytes("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n")
        let (consumed, event) = head.withUnsafeBytes { parser.parse($0) }
        XCTAssertEqual(consumed, head.count)
        guard case .needMore = event else { return XCTFail("\(event)") }
        XCTAssertTrue(parser.wantsContinue)
        parser.continueSent()
        XCTAssertFalse(parser.wantsContinue)
        let (_, done) = bytes("abc").withUnsafeBytes { parser.parse($0) }
        guard case .complete(let request, _) = done else { return XCTFail("\(done)") }
        XCTAssertEqual(request.body, bytes("abc"))
    }

    func testHeadLimitIsExact() {
        let limits = HTTPParserLimits(maxHeaderBytes: 64, maxBodyBytes: 10)
        let fits = "GET / HTTP/1.1\r\nHost: x\r\nX: " + String(repeating: "a", count: 64 - 32) + "\r\n\r\n"
        XCTAssertEqual(fits.utf8.count, 64)
        XCTAssertEqual(drive(bytes(fits), limits: limits).outcomes.count, 1)
        let over = "GET / HTTP/1.1\r\nHost: x\r\nX: " + String(repeating: "a", count: 65 - 32) + "\r\n\r\n"
        XCTAssertEqual(drive(bytes(over), limits: limits).outcomes, [.failure(431)])
        XCTAssertEqual(drive(bytes(over), pieces: [1], limits: limits).outcomes, [.failure(431)])
    }

    func testChunkedLimits() {
        let limits = HTTPParserLimits(maxHeaderBytes: 256, maxBodyBytes: 10)
        let head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        XCTAssertEqual(drive(bytes(head + "a\r\n0123456789\r\n0\r\n\r\n"), limits: limits).outcomes.count, 1)
        XCTAssertEqual(drive(bytes(head + "a\r\n0123456789\r\n1\r\nx\r\n0\r\n\r\n"), limits: limits).outcomes, [.failure(413)])
        XCTAssertEqual(drive(bytes(head + "ffffffffffffffffff\r\n"), limits: limits).outcomes, [.failure(413)])
        XCTAssertEqual(drive(bytes(head + "0\r\n" + String(repeating: "T: v\r\n", count: 60) + "\r\n"), limits: limits)
                        .outcomes, [.failure(431)])
        XCTAssertEqual(drive(bytes(head + "1;" + String(repeating: "e", count: 5000) + "\r\n"), limits: limits).outcomes,
                       [.failure(400)])
    }

    /// Every byte value against RFC 9110's tchar, spelled out: the lookup table is built from strings.
    func testTokenBytesAreExactlyTchar() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for byte in 0...255 {
            XCTAssertEqual(isTokenByte(UInt8(byte)), tchar.contains(UInt8(byte)), "byte \(byte)")
        }
    }

    /// The word-at-a-time control-character scan against a byte-by-byte one: every byte value at every
    /// position of values of 0–20 bytes (tabs, DEL, obs-text and the bytes around 0x20 among the rest).
    func testControlCharacterScanMatchesByteByByte() {
        func reference(_ value: [UInt8]) -> Bool { value.contains { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F } }
        for length in 0...20 {
            for position in 0..<max(length, 1) {
                for byte in 0...255 {
                    var value = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    if length > 0 { value[position] = UInt8(byte) }
                    // A tab elsewhere in the word must not hide or invent a control character.
                    if length > 1 { value[(position + 1) % length] = 0x09 }
                    let found = value.withUnsafeBytes { RequestHead.containsControlCharacter($0) }
                    XCTAssertEqual(found, reference(value), "length \(length), byte \(byte) at \(position)")
                }
            }
        }
        // Through the parser: the refusal, and tabs and obs-text accepted.
        for value in ["a\u{01}b", "0123456789abcdef\u{7F}", "\u{1F}", "abcdefgh\r"] {
            let input = bytes("GET / HTTP/1.1\r\nHost: x\r\nX-V: \(value)\r\n\r\n")
            XCTAssertEqual(drive(input).outcomes, [.failure(400)], value.debugDescription)
        }
        let accepted = bytes("GET / HTTP/1.1\r\nHost: x\r\nX-V: a\tb\t0123456789abcdef") + [0x80, 0xFF] + bytes("\r\n\r\n")
        XCTAssertEqual(drive(accepted).outcomes, [.request(method: "GET", target: "/", body: [], keepAlive: true)])
    }

    func testIncompleteInputWaits() {
        for text in ["G", "GET / HTTP/1.1\r", "GET / HTTP/1.1\r\nHost: x\r\n", "GET / HTTP/1.1\r\nHost: x\r\n\r",
                     "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab",
                     "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab"] {
            let result = drive(bytes(text))
            XCTAssertEqual(result.outcomes, [], text.debugDescription)
            XCTAssertTrue(result.needsMore, text.debugDescription)
        }
    }

    /// Random and mutated input, in random pieces: never a crash, only requests, refusals (4xx, 501, 505)
    /// or a wait for more.
    func testFuzz() {
        var generator = SplitMix64(seed: 0x5EED_F00D)
        let seeds = [
            "GET /validate?timeout=10s HTTP/1.1\r\nHost: webhook\r\nContent-Type: application/json\r\n\r\n",
            "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{\"a\":[1,2]}",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nwiki\r\n5\r\npedia\r\n0\r\nT: 1\r\n\r\n",
            "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
        ].map { Array($0.utf8) }
        let interesting: [UInt8] = Array("\r\n :;\t0123456789abcdefABCDEF/?%HTTP.-".utf8) + [0, 0x7F, 0x80, 0xFF]
        let limits = HTTPParserLimits(maxHeaderBytes: 512, maxBodyBytes: 256)
        var requests = 0
        var refusals = 0
        var waits = 0
        for iteration in 0..<20_000 {
            var input: [UInt8]
            if iteration % 5 == 0 {
                input = (0..<Int(generator.next() % 300)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            } else {
                input = seeds[Int(generator.next() % UInt64(seeds.count))]
                if generator.next() % 3 == 0 { input += seeds[Int(generator.next() % UInt64(seeds.count))] }
                for _ in 0..<(1 + Int(generator.next() % 6)) {
                    guard !input.isEmpty else { break }
                    let position = Int(generator.next() % UInt64(input.count))
                    switch generator.next() % 5 {
                    case 0: input[position] = interesting[Int(generator.next() % UInt64(interesting.count))]
                    case 1: input.remove(at: position)
                    case 2: input.insert(interesting[Int(generator.next() % UInt64(interesting.count))], at: position)
                    case 3: input[position] = UInt8(truncatingIfNeeded: generator.next())
                    default:
                        let length = min(input.count - position, Int(generator.next() % 20))
                        input.insert(contentsOf: input[position..<(position + length)], at: position)
                    }
                }
            }
            let pieces = [1 + Int(generator.next() % 40), 1 + Int(generator.next() % 400)]
            let result = drive(input, pieces: pieces, limits: limits)
            if result.needsMore { waits += 1 }
            for outcome in result.outcomes {
                if case .request = outcome { requests += 1 }
                if case .failure(let status) = outcome {
                    refusals += 1
                    XCTAssertTrue((400...431).contains(status) || status == 501 || status == 505,
                                  "status \(status) for \(input)")
                }
            }
        }
        // The mutations reach every outcome.
        XCTAssertGreaterThan(requests, 1000)
        XCTAssertGreaterThan(refusals, 1000)
        XCTAssertGreaterThan(waits, 100)
        print("fuzz: \(requests) requests, \(refusals) refusals, \(waits) waits")
    }
}

/// A small deterministic generator, so a failing fuzz case can be reproduced.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
