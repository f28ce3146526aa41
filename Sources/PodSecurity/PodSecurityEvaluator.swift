/// Evaluates pods against a level and version. Pure: no I/O; the only shared state is the immutable
/// check registry.
public enum PodSecurityEvaluator {
    /// The violations of `pod` at `policy`, in PSA's order. Privileged allows everything.
    public static func evaluate(_ pod: Pod, at policy: LevelVersion) -> Evaluation {
        evaluate(metadata: pod.metadata, spec: pod.spec, at: policy)
    }

    /// The same, for a pod given as metadata and spec (a workload's pod template).
    public static func evaluate(metadata: PodMetadata, spec: PodSpec, at policy: LevelVersion) -> Evaluation {
        let entries = CheckRegistry.standard.entries(for: policy)
        // Each check is called where the registry keeps it, its ID read only for a violation: a `for in` loop
        // copied every entry, retaining and releasing its ID for each check, passing or not.
        return entries.withUnsafeBufferPointer { entries in
            var violations: [Violation] = []
            for index in entries.indices {
                if let finding = entries[index].evaluate(metadata, spec) {
                    // Room for every check at the first violation (a denied pod usually fails several, and growing
                    // the array one by one reallocates it), none while the pod passes.
                    if violations.isEmpty { violations.reserveCapacity(entries.count) }
                    violations.append(Violation(checkID: entries[index].checkID, finding: finding))
                }
            }
            return Evaluation(violations: violations)
        }
    }

    /// The IDs of the checks that apply at `policy`, in evaluation order (for documentation and tests).
    public static func checkIDs(at policy: LevelVersion) -> [String] {
        CheckRegistry.standard.entries(for: policy).map(\.checkID)
    }

}
