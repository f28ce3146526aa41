/// Evaluates pods against a level and version. Pure: no I/O; the only shared state is the immutable
/// check registry.
public enum PodSecurityEvaluator {
    /// The violations of `pod` at `policy`, in PSA's order. Privileged allows everything.
    public static func evaluate(_ pod: Pod, at policy: LevelVersion) -> Evaluation {
        evaluate(metadata: pod.metadata, spec: pod.spec, at: policy)
    }

    /// The same, for a pod given as metadata and spec (a workload's pod template).
    public static func evaluate(metadata: PodMetadata, spec: PodSpec, at policy: LevelVersion) -> Evaluation {
        var violations: [Violation] = []
        for entry in CheckRegistry.standard.entries(for: policy) {
            if let finding = entry.evaluate(metadata, spec) {
                violations.append(Violation(checkID: entry.checkID, reason: finding.reason, detail: finding.detail))
            }
        }
        return Evaluation(violations: violations)
    }

    /// The IDs of the checks that apply at `policy`, in evaluation order (for documentation and tests).
    public static func checkIDs(at policy: LevelVersion) -> [String] {
        CheckRegistry.standard.entries(for: policy).map(\.checkID)
    }

}
