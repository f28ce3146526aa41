/// A Pod Security Standards level, from least to most restrictive.
public enum Level: String, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    case privileged
    case baseline
    case restricted

    /// Parses a level exactly as PSA does: lower-case names only.
    public init?(parsing text: String) {
        self.init(rawValue: text)
    }

    public var description: String { rawValue }

    private var rank: Int {
        switch self {
        case .privileged: 0
        case .baseline: 1
        case .restricted: 2
        }
    }

    public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rank < rhs.rank }
}
