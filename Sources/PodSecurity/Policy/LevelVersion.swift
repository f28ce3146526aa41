/// A level at a version: the policy a pod is evaluated against, written `restricted:v1.30` in messages.
public struct LevelVersion: Sendable, Hashable, CustomStringConvertible {
    public var level: Level
    public var version: Version

    public init(level: Level, version: Version) {
        self.level = level
        self.version = version
    }

    /// `level:version`, as PSA prints a policy.
    public var description: String {
        // `latest` is what nearly every namespace runs, and this is written several times per request
        // (messages, annotations, metrics, the log): constants for it, no string building.
        if version.isLatest {
            switch level {
            case .privileged: return "privileged:latest"
            case .baseline: return "baseline:latest"
            case .restricted: return "restricted:latest"
            }
        }
        return level.rawValue + ":" + version.description
    }
}
