import Foundation
import XCTest
import COpenSSL
@testable import TLS

/// Runs certs/make-certs.sh into a fresh temporary directory and returns it.
func makeCertificates(file: StaticString = #filePath) throws -> String {
    let repository = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let script = repository.appendingPathComponent("certs/make-certs.sh").path
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-tests-\(UUID().uuidString)").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [script, directory]
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0, "make-certs.sh failed")
    return directory
}

/// A listening TCP socket on loopback; port 0 picks one.
func listenOnLoopback(ipv6: Bool = false) -> (fd: Int32, port: Int) {
    let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    precondition(fd >= 0)
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    if ipv6 {
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
    } else {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }
    precondition(listen(fd, 64) == 0)
    var storage = sockaddr_in6()
    var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
    _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        getsockname(fd, $0, &length) } }
    return (fd, Int(UInt16(bigEndian: storage.sin6_port)))
}

/// A TLS echo server for tests: each connection handshakes, then echoes bytes until end of stream.
/// Records handshake failures. `@unchecked Sendable`: the mutable record is behind `Locked`.
final class EchoServer: @unchecked Sendable {
    let context: TLSServerContext
    let port: Int
    private let listenFD: Int32
    let failures = Locked<[TLSError]>([])
    let peerSubjects = Locked<[String?]>([])

    init(context: TLSServerContext, ipv6: Bool = false) {
        self.context = context
        let (fd, port) = listenOnLoopback(ipv6: ipv6)
        listenFD = fd
        self.port = port
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    private func acceptLoop() {
        while true {
            let client = accept(listenFD, nil, nil)
            if client < 0 { return }
            let thread = Thread { [self] in serve(client) }
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        let connection: TLSConnection
        do {
            connection = try context.accept(socket: fd, handshakeDeadline: .now().advanced(bySeconds: 5))
        } catch {
            failures.withLock { $0.append(error) }
            return
        }
        peerSubjects.withLock { $0.append(connection.peerCertificateSubject) }
        connection.setTimeout(seconds: 5)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = (try? buffer.withUnsafeMutableBytes { try connection.read(into: $0) }) ?? 0
            if count == 0 { break }
            if (try? connection.write(Array(buffer[0..<count]))) == nil { break }
        }
        connection.close()
    }

    func stop() {
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
    }
}

extension TLSClientConnection {
    /// Writes `text` and reads back as many bytes.
    func roundTrip(_ text: String) throws -> String {
        let bytes = Array(text.utf8)
        try write(bytes)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while received.count < bytes.count {
            let count = try buffer.withUnsafeMutableBytes { try read(into: $0) }
            if count == 0 { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
