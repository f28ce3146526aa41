/// A Pod Security Standards version: `v1.N` or `latest`. Versions newer than the newest this build knows are
/// accepted (PSA does too) and evaluated as the newest known.
public struct Version: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Always 1 for a concrete version (PSA only defines v1.x); 0 for `latest`.
    public let major: Int
    public let minor: Int
    /// `latest`: the newest checks this build knows.
    public let isLatest: Bool

    /// `latest`.
    public static let latest = Version(latest: ())
    /// The newest version with registered check behaviour (v1.37): what `latest` evaluates as. Derived from
    /// the check registry, so adding a check version moves it.
    public static var newestKnown: Version { Version(major: 1, minor: CheckRegistry.standard.newestMinor) }

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
        self.isLatest = false
    }

    private init(latest: Void) {
        self.major = 0
        self.minor = 0
        self.isLatest = true
    }

    /// Parses `latest` or `v1.N` (no sign, no leading zeros, no spaces), as PSA's `ParseVersion` does.
    public init?(parsing text: String) {
        if text == "latest" {
            self = .latest
            return
        }
        let bytes = Array(text.utf8)
        guard bytes.count >= 4, bytes[0] == UInt8(ascii: "v"), bytes[1] == UInt8(ascii: "1"),
              bytes[2] == UInt8(ascii: ".")
        else { return nil }
        let digits = bytes[3...]
        guard digits.count <= 18, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        if digits.count > 1 && digits.first == UInt8(ascii: "0") { return nil }
        var minor = 0
        for digit in digits { minor = minor * 10 + Int(digit - UInt8(ascii: "0")) }
        self.init(major: 1, minor: minor)
    }

    public var description: String { isLatest ? "latest" : "v\(major).\(minor)" }

    /// `latest` orders after every concrete version.
    public static func < (lhs: Version, rhs: Version) -> Bool {
        if lhs.isLatest { return false }
        if rhs.isLatest { return true }
        return (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }
}
