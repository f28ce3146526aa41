import Foundation
import StrictJSON
import XCTest
@testable import KubernetesClient

/// One accepted connection of the stand-in, plain TCP or TLS.
protocol StandInConnection: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int   // <= 0: closed or failed
    func write(_ bytes: [UInt8]) -> Bool
    /// True when the client has closed its end (checked without consuming data).
    func peerClosed() -> Bool
    func close()
}

/// Whether the peer of socket `fd` has closed (readable with nothing to read).
func socketPeerClosed(_ fd: Int32) -> Bool {
    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    guard poll(&entry, 1, 0) == 1 else { return false }
    var byte: UInt8 = 0
    return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0 || (entry.revents & Int16(POLLHUP | POLLERR)) != 0
}

final class PlainStandInConnection: StandInConnection {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int { recv(fd, buffer.baseAddress, buffer.count, 0) }
    func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return false }
            offset += count
        }
        return true
    }
    func peerClosed() -> Bool { socketPeerClosed(fd) }
    func close() { Glibc.shutdown(fd, Int32(SHUT_RDWR)); Glibc.close(fd) }
}

/// A request the stand-in received.
struct RecordedRequest {
    var method: String
    var target: String
    var headers: [String: String]
    var path: String { String(target.prefix { $0 != "?" }) }
    var query: [String: String] {
        guard let mark = target.firstIndex(of: "?") else { return [:] }
        var result: [String: String] = [:]
        for pair in target[target.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            result[String(parts[0])] = parts.count > 1 ? String(parts[1]).removingPercentEncoding ?? String(parts[1]) : ""
        }
        return result
    }
}

/// What the stand-in does on the next watch request.
enum WatchScript {
    /// Stream events, forever.
    case normal
    /// Stream `events` events, then drop the connection mid-stream (no terminating chunk).
    case dropAfter(events: Int)
    /// Answer HTTP 410 Gone with a Status body.
    case respondGone
    /// Send an ERROR event with a 410 Status, then end the stream.
    case errorEventGone
    /// Send a line that is not JSON, then keep streaming.
    case malformedEvent
}

/// A stand-in for the Kubernetes API server speaking the real wire format: JSON lists with
/// metadata.resourceVersion, chunked watch streams, Status errors, bearer tokens, keep-alive.
final class FakeAPIServer: @unchecked Sendable {  // state behind `lock`
    private let lock = NSLock()
    private var listenFD: Int32 = -1
    private(set) var port: Int = 0
    private var stopped = false
    private let wrap: (Int32) -> StandInConnection?

    // API state (under lock).
    private var resourceVersion = 100
    private var namespaces: [String: (labels: [String: String], rv: Int)] = [:]
    private var events: [(rv: Int, type: String, line: [UInt8])] = []
    private var compactedBelow = 0
    private var pods: [String: [JSONValue]] = [:]
    private var requests: [RecordedRequest] = []
    private var watchScripts: [WatchScript] = []
    private var dropWatchesGeneration = 0
    private var connectionCount = 0
    private var openWatches = 0
    var expectedToken: String? { get { locked { _expectedToken } } set { locked { _expectedToken = newValue } } }
    private var _expectedToken: String?
    var pauseWatchEvents: Bool { get { locked { _pause } } set { locked { _pause = newValue } } }
    private var _pause = false
    var listPageSize = 1000

    init(wrap: @escaping (Int32) -> StandInConnection? = { PlainStandInConnection(fd: $0) }) throws {
        self.wrap = wrap
        listenFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listenFD, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listenFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(listenFD, 64) == 0 else { throw TransportError("bind/listen failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listenFD, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    func stop() {
        locked { stopped = true }
        Glibc.shutdown(listenFD, Int32(SHUT_RDWR))
        Glibc.close(listenFD)
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T { lock.lock(); defer { lock.unlock() }; return try body() }

    // MARK: Test controls

    func setNamespace(_ name: String, labels: [String: String]) {
        locked {
            resourceVersion += 1
            let existed = namespaces[name] != nil
            namespaces[name] = (labels, resourceVersion)
            events.append((resourceVersion, existed ? "MODIFIED" : "ADDED", eventLine(existed ? "MODIFIED" : "ADDED", namespaceJSON(name, labels, resourceVersion))))
        }
    }

    func deleteNamespace(_ name: String) {
        locked {
            guard let old = namespaces.removeValue(forKey: name) else { return }
            resourceVersion += 1
            events.append((resourceVersion, "DELETED", eventLine("DELETED", namespaceJSON(name, old.labels, resourceVersion))))
        }
    }

    /// Emits a bookmark at a new resourceVersion.
    func bookmark() -> Int {
        locked {
            resourceVersion += 1
            let object = JSONValue.object(JSONObject(["kind": .string("Namespace"), "apiVersion": .string("v1"),
                                                      "metadata": .object(JSONObject(["resourceVersion": .string(String(resourceVersion))]))]))
            events.append((resourceVersion, "BOOKMARK", eventLine("BOOKMARK", object)))
            return resourceVersion
        }
    }

    /// Forgets history: watches from an older resourceVersion get 410.
    func compact() { locked { compactedBelow = resourceVersion; events.removeAll() } }

    func setPods(namespace: String, count: Int) {
        locked {
            pods[namespace] = (0..<count).map { index in
                .object(JSONObject(["metadata": .object(JSONObject(["name": .string("pod-\(index)"), "namespace": .string(namespace)])),
                                    "spec": .object(JSONObject(["containers": .array([])]))]))
            }
        }
    }

    func scriptWatches(_ scripts: [WatchScript]) { locked { watchScripts.append(contentsOf: scripts) } }
    func dropWatches() { locked { dropWatchesGeneration += 1 } }
    var recordedRequests: [RecordedRequest] { locked { requests } }
    var connectionsAccepted: Int { locked { connectionCount } }
    /// Watch streams currently open (the stand-in notices a client's close within its poll interval).
    var openWatchCount: Int { locked { openWatches } }
    var currentResourceVersion: Int { locked { resourceVersion } }
    func watchRequests() -> [RecordedRequest] { recordedRequests.filter { $0.query["watch"] == "1" } }

    // MARK: Wire format

    private func namespaceJSON(_ name: String, _ labels: [String: String], _ rv: Int) -> JSONValue {
        var labelObject = JSONObject()
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) { labelObject[key] = .string(value) }
        return .object(JSONObject(["kind": .string("Namespace"), "apiVersion": .string("v1"),
                                   "metadata": .object(JSONObject(["name": .string(name), "resourceVersion": .string(String(rv)),
                                                                   "uid": .string("uid-\(name)"), "labels": .object(labelObject)])),
                                   "spec": .object(JSONObject(["finalizers": .array([.string("kubernetes")])])),
                                   "status": .object(JSONObject(["phase": .string("Active")]))]))
    }

    private func eventLine(_ type: String, _ object: JSONValue) -> [UInt8] {
        JSONValue.object(JSONObject(["type": .string(type), "object": object])).serialized() + [10]
    }

    static func status(_ code: Int, reason: String, message: String) -> [UInt8] {
        JSONValue.object(JSONObject(["kind": .string("Status"), "apiVersion": .string("v1"), "metadata": .object(JSONObject()),
                                     "status": .string("Failure"), "message": .string(message), "reason": .string(reason),
                                     "code": .number(JSONNumber(code))])).serialized()
    }

    // MARK: Serving

    private func acceptLoop() {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 { if locked({ stopped }) { return }; continue }
            locked { connectionCount += 1 }
            let thread = Thread { [self] in
                guard let connection = wrap(fd) else { Glibc.close(fd); return }
                serve(connection)
                connection.close()
            }
            thread.start()
        }
    }

    private func serve(_ connection: StandInConnection) {
        var buffer: [UInt8] = []
        var scratch = [UInt8](repeating: 0, count: 16384)
        while !locked({ stopped }) {
            // Read one request head.
            var headEnd: Int?
            while headEnd == nil {
                if let range = findHeadEnd(buffer) { headEnd = range; break }
                let count = scratch.withUnsafeMutableBytes { connection.read(into: $0) }
                if count <= 0 { return }
                buffer.append(contentsOf: scratch[0..<count])
            }
            let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
            buffer.removeSubrange(0..<(headEnd! + 4))
            let lines = head.components(separatedBy: "\r\n")
            let parts = lines[0].split(separator: " ")
            guard parts.count == 3 else { return }
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let request = RecordedRequest(method: String(parts[0]), target: String(parts[1]), headers: headers)
            locked { requests.append(request) }
            if !respond(to: request, on: connection) { return }
        }
    }

    private func findHeadEnd(_ buffer: [UInt8]) -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4) where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }

    /// Answers one request; false to close the connection.
    private func respond(to request: RecordedRequest, on connection: StandInConnection) -> Bool {
        if let expected = expectedToken, request.headers["authorization"] != "Bearer \(expected)" {
            return send(connection, 401, Self.status(401, reason: "Unauthorized", message: "Unauthorized"))
        }
        let path = request.path
        let segments = path.split(separator: "/").map(String.init)
        let query = request.query
        if path == "/api/v1/namespaces" && query["watch"] == "1" {
            return watch(request, connection)
        }
        if path == "/api/v1/namespaces" {
            return locked { () -> [UInt8] in
                let names = namespaces.keys.sorted()
                let limit = min(Int(query["limit"] ?? "") ?? names.count, listPageSize)
                let offset = Int(query["continue"] ?? "") ?? 0
                let page = names.dropFirst(offset).prefix(limit)
                let next = offset + page.count < names.count ? String(offset + page.count) : ""
                let items = page.map { namespaceJSON($0, namespaces[$0]!.labels, namespaces[$0]!.rv) }
                return JSONValue.object(JSONObject(["kind": .string("NamespaceList"), "apiVersion": .string("v1"),
                                                    "metadata": .object(JSONObject(["resourceVersion": .string(String(resourceVersion)), "continue": .string(next)])),
                                                    "items": .array(items)])).serialized()
            }.withUnsafeBufferPointer { send(connection, 200, Array($0)) }
        }
        if segments.count == 4 && segments[0] == "api" && segments[2] == "namespaces" {
            let name = segments[3].removingPercentEncoding ?? segments[3]
            let found = locked { namespaces[name].map { namespaceJSON(name, $0.labels, $0.rv).serialized() } }
            if let found { return send(connection, 200, found) }
            return send(connection, 404, Self.status(404, reason: "NotFound", message: "namespaces \"\(name)\" not found"))
        }
        if segments.count == 5 && segments[4] == "pods" {
            let namespace = segments[3]
            let body = locked { () -> [UInt8] in
                let all = pods[namespace] ?? []
                let limit = Int(query["limit"] ?? "") ?? all.count
                let offset = Int(query["continue"] ?? "") ?? 0
                let page = Array(all.dropFirst(offset).prefix(limit))
                let next = offset + page.count < all.count ? String(offset + page.count) : ""
                return JSONValue.object(JSONObject(["kind": .string("PodList"), "apiVersion": .string("v1"),
                                                    "metadata": .object(JSONObject(["resourceVersion": .string(String(resourceVersion)), "continue": .string(next)])),
                                                    "items": .array(page)])).serialized()
            }
            return send(connection, 200, body)
        }
        return send(connection, 404, Self.status(404, reason: "NotFound", message: "the server could not find the requested resource"))
    }

    private func send(_ connection: StandInConnection, _ code: Int, _ body: [UInt8]) -> Bool {
        let reason = [200: "OK", 401: "Unauthorized", 404: "Not Found", 410: "Gone"][code] ?? "Error"
        let head = "HTTP/1.1 \(code) \(reason)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
        return connection.write(Array(head.utf8) + body)
    }

    private func watch(_ request: RecordedRequest, _ connection: StandInConnection) -> Bool {
        let script: WatchScript = locked { watchScripts.isEmpty ? .normal : watchScripts.removeFirst() }
        let from = Int(request.query["resourceVersion"] ?? "") ?? 0
        let (tooOld, generation) = locked { (from < compactedBelow, dropWatchesGeneration) }
        if case .respondGone = script {
            _ = send(connection, 410, Self.status(410, reason: "Expired", message: "too old resource version: \(from) (\(compactedBelow))"))
            return false
        }
        if tooOld {
            _ = send(connection, 410, Self.status(410, reason: "Expired", message: "too old resource version: \(from) (\(locked { compactedBelow }))"))
            return false
        }
        guard connection.write(Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)) else { return false }
        locked { openWatches += 1 }
        defer { locked { openWatches -= 1 } }
        var sizes = [5, 300, 17, 1, 64].makeIterator()
        func writeChunked(_ bytes: [UInt8]) -> Bool {
            // Odd chunk sizes: events span chunk boundaries, and a large chunk holds several events.
            var offset = 0
            while offset < bytes.count {
                var size = sizes.next()
                if size == nil { sizes = [5, 300, 17, 1, 64].makeIterator(); size = sizes.next() }
                let end = min(bytes.count, offset + size!)
                let chunk = Array(String(end - offset, radix: 16).utf8) + [13, 10] + bytes[offset..<end] + [13, 10]
                if !connection.write(chunk) { return false }
                offset = end
            }
            return true
        }
        switch script {
        case .errorEventGone:
            let status = try! JSONParser.parse(Self.status(410, reason: "Expired", message: "The resourceVersion for the provided watch is too old."))
            _ = writeChunked(eventLine("ERROR", status))
            _ = connection.write(Array("0\r\n\r\n".utf8))
            return false
        case .malformedEvent:
            if !writeChunked(Array("{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"broken\"\n".utf8)) { return false }
        default: break
        }
        var cursor = from
        var sent = 0
        while true {
            let (pending, stop, dropped, paused) = locked { (events.filter { $0.rv > cursor }, stopped, dropWatchesGeneration != generation, _pause) }
            if stop || dropped || connection.peerClosed() { return false }  // abrupt close, no terminating chunk
            if !paused && !pending.isEmpty {
                var batch: [UInt8] = []
                for event in pending {
                    if case .dropAfter(let limit) = script, sent == limit {
                        _ = writeChunked(batch)
                        return false
                    }
                    batch += event.line
                    cursor = event.rv
                    sent += 1
                }
                if !writeChunked(batch) { return false }
                if case .dropAfter(let limit) = script, sent >= limit { return false }
            }
            usleep(20_000)
        }
    }
}

/// Polls `condition` until it holds or a generous time passes (tests never assert durations).
func waitUntil(_ what: String, timeout: Double = 20, file: StaticString = #filePath, line: UInt = #line, _ condition: () -> Bool) {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        if condition() { return }
        usleep(20_000)
    }
    XCTFail("timed out waiting for: \(what)", file: file, line: line)
}
