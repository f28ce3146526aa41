import Glibc
import StrictJSON

/// Writes one JSON object per line to a file descriptor (stdout by default). Each line goes out in a single
/// `write`, so lines from concurrent requests do not interleave.
public struct RequestLog: Sendable {
    private let descriptor: Int32

    public init(descriptor: Int32 = STDOUT_FILENO) { self.descriptor = descriptor }

    /// Writes `fields` (in order) as one JSON line, with a `time` field first.
    public func write(_ fields: [(String, JSONValue)]) {
        var members = [JSONObject.Member(key: "time", value: .string(Self.timestamp()))]
        members.reserveCapacity(fields.count + 1)
        for (key, value) in fields { members.append(JSONObject.Member(key: key, value: value)) }
        var line = JSONValue.object(JSONObject(members)).serialized()
        line.append(0x0A)
        line.withUnsafeBytes { buffer in
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

    /// RFC 3339 UTC time with milliseconds, e.g. `2026-11-22T13:40:00.123Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}
