/// Maps each level and version to the checks that apply, in PSA's order, the way upstream's registry is
/// built: every check's behaviour is inflated across the versions it covers; restricted takes the baseline
/// checks its own checks do not override; checks run baseline first, then restricted, each group sorted by
/// ID (byte order), which is the order of the reasons in a denial message.
struct CheckRegistry: Sendable {
    typealias Evaluate = @Sendable (PodMetadata, PodSpec) -> CheckFinding?

    struct Entry: Sendable {
        let checkID: String
        let evaluate: Evaluate
    }

    /// The newest minor any check registers a behaviour for: `latest` and every newer version evaluate as it.
    let newestMinor: Int
    private let baseline: [[Entry]]
    private let restricted: [[Entry]]

    init(checks: [Check]) {
        let newestMinor = checks.compactMap { $0.versions.last?.minimumMinor }.max() ?? 0
        let byteOrder: (Check, Check) -> Bool = { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
        let baselineChecks = checks.filter { $0.level == .baseline }.sorted(by: byteOrder)
        let restrictedChecks = checks.filter { $0.level == .restricted }.sorted(by: byteOrder)

        var baseline: [[Entry]] = []
        var restricted: [[Entry]] = []
        for minor in 0...newestMinor {
            let baselineHere = baselineChecks.compactMap { check in Self.version(of: check, at: minor).map { (check.id, $0) } }
            let restrictedHere = restrictedChecks.compactMap { check in Self.version(of: check, at: minor).map { (check.id, $0) } }
            let overridden = Set(restrictedHere.flatMap { $0.1.overrides })
            baseline.append(baselineHere.map { Entry(checkID: $0.0, evaluate: $0.1.evaluate) })
            restricted.append(
                baselineHere.filter { !overridden.contains($0.0) }.map { Entry(checkID: $0.0, evaluate: $0.1.evaluate) }
                    + restrictedHere.map { Entry(checkID: $0.0, evaluate: $0.1.evaluate) })
        }
        self.newestMinor = newestMinor
        self.baseline = baseline
        self.restricted = restricted
    }

    /// The behaviour of `check` at `v1.<minor>`: its newest version at or below it, nil before its first.
    private static func version(of check: Check, at minor: Int) -> VersionedCheck? {
        check.versions.last { $0.minimumMinor <= minor }
    }

    /// The checks for a policy, in evaluation order; none for privileged.
    func entries(for policy: LevelVersion) -> [Entry] {
        let minor = policy.version.isLatest ? newestMinor : min(policy.version.minor, newestMinor)
        switch policy.level {
        case .privileged: return []
        case .baseline: return baseline[minor]
        case .restricted: return restricted[minor]
        }
    }

    /// The registry of every check this build knows.
    static let standard = CheckRegistry(checks: Checks.all)
}
