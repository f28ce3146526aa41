// API SKELETON: the engine work replaces the body with the registry of versioned checks.

/// Evaluates pods against a level and version. Pure: no I/O, no globals beyond immutable tables.
public enum PodSecurityEvaluator {
    /// The violations of `pod` at `policy`, in PSA's order. Privileged allows everything.
    public static func evaluate(_ pod: Pod, at policy: LevelVersion) -> Evaluation {
        Evaluation(violations: [])
    }
}
