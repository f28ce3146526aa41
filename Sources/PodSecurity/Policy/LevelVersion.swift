/// A level at a version: the policy a pod is evaluated against, written `restricted:v1.30` in messages.
public struct LevelVersion: Sendable, Hashable, CustomStringConvertible {
    public var level: Level
    public var version: Version

    public init(level: Level, version: Version) {
        self.level = level
        self.version = version
    }

    /// `level:version`, as PSA prints a policy.
    public var description: String { "\(level.rawValue):\(version.description)" }
}
