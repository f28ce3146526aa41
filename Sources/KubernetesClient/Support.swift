#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Seconds since an arbitrary fixed point, monotonic.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// Sleeps for `seconds`, waking early (returning false) when `shouldStop` turns true.
func sleep(seconds: Double, unless shouldStop: () -> Bool) -> Bool {
    let end = monotonicSeconds() + seconds
    while true {
        if shouldStop() { return false }
        let left = end - monotonicSeconds()
        if left <= 0 { return true }
        usleep(UInt32(min(left, 0.05) * 1_000_000))
    }
}

/// Small file helpers on POSIX calls (library modules do not import Foundation).
enum FileAccess {
    /// The whole file, refusing files larger than `maxBytes`.
    static func read(path: String, maxBytes: Int = 1 << 20) throws(KubernetesConfigurationError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            throw KubernetesConfigurationError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw KubernetesConfigurationError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > maxBytes {
                throw KubernetesConfigurationError("\(path) is larger than \(maxBytes) bytes")
            }
        }
        return bytes
    }

    /// True when `path` names an existing regular file (or a symlink to one, as Secret mounts are).
    static func isFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// Writes `bytes` to a new private (0600) temporary file and returns its path.
    static func writePrivateTemporary(_ bytes: [UInt8], prefix: String) throws(KubernetesConfigurationError) -> String {
        let directory = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(directory)/\(prefix)-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }  // mkstemp creates 0600
        if fd < 0 {
            throw KubernetesConfigurationError("cannot create a temporary file in \(directory): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        fchmod(fd, 0o600)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                unlink(path)
                throw KubernetesConfigurationError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            written += count
        }
        return path
    }

    /// `path` resolved against `directory` when relative.
    static func resolve(_ path: String, against directory: String) -> String {
        if path.hasPrefix("/") || directory.isEmpty { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }
}

/// Standard base64 (RFC 4648), as kubeconfig `*-data` fields hold; whitespace ignored, padding optional.
enum Base64 {
    static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        for byte in text.utf8 {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="): padding += 1; continue
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): continue
            default: return nil
            }
            if padding > 0 { return nil }  // data after padding
            accumulator = (accumulator << 6) | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8((accumulator >> UInt32(bits)) & 0xFF))
            }
        }
        if padding > 2 || bits >= 6 { return nil }
        return output
    }
}

/// Removes a file, ignoring errors (it may already be gone).
func removeFile(_ path: String) { _ = unlink(path) }
