import Foundation
import XCTest

/// Runs the built `pod-security-webhook` binary as a real process.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }
}

enum WebhookBinary {
    /// The executable sits beside the test bundle in the build directory.
    static var url: URL {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        // On Linux the tests run from `<build>/<name>PackageTests.xctest`; go up out of a bundle if there is one.
        while directory.pathExtension == "xctest" || directory.lastPathComponent == "Contents" || directory.lastPathComponent == "MacOS" {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("pod-security-webhook")
    }

    static func run(_ arguments: [String], stdin: Data? = nil, timeout: TimeInterval = 60) throws -> ProcessResult {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        // Read both pipes fully before waiting, so a large output cannot block the child.
        let stdoutData = PipeContents(), stderrData = PipeContents()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { stdoutData.set(out.fileHandleForReading.readDataToEndOfFile()); group.leave() }
        group.enter()
        DispatchQueue.global().async { stderrData.set(err.fileHandleForReading.readDataToEndOfFile()); group.leave() }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            throw NSError(domain: "ProcessRunner", code: 1, userInfo: [NSLocalizedDescriptionKey: "timed out: \(arguments)"])
        }
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus,
                             stdout: String(decoding: stdoutData.get(), as: UTF8.self),
                             stderr: String(decoding: stderrData.get(), as: UTF8.self))
    }
}

/// What one reader thread collected from a pipe; the lock makes the hand-over to the test thread safe.
final class PipeContents: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ newData: Data) { lock.withLock { data = newData } }
    func get() -> Data { lock.withLock { data } }
}

/// A temporary directory removed at the end of the test.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("psw-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func write(_ name: String, _ contents: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try contents.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}
