/// A Pod Security Standards check, as upstream registers it: an ID, the level it belongs to, and its
/// behaviour per version. A version's behaviour applies from its minimum version until the next one.
struct Check: Sendable {
    let id: String
    let level: Level
    /// Ascending by `minimumMinor`.
    let versions: [VersionedCheck]
}

/// One version of a check's behaviour: from `v1.<minimumMinor>` on, `evaluate` decides, and in the
/// restricted level the baseline checks named in `overrides` are dropped in favour of this one.
struct VersionedCheck: Sendable {
    let minimumMinor: Int
    let overrides: [String]
    let evaluate: @Sendable (PodMetadata, PodSpec) -> CheckFinding?

    init(minimumMinor: Int, overrides: [String] = [], evaluate: @escaping @Sendable (PodMetadata, PodSpec) -> CheckFinding?) {
        self.minimumMinor = minimumMinor
        self.overrides = overrides
        self.evaluate = evaluate
    }
}

/// What a check found wrong: PSA's forbidden reason and detail. A check that finds nothing returns nil.
/// (A class: every check returns one of these or nil on every evaluation, and a reference is returned in a
/// register, where the detail's fields would be copied through memory by each check's closure.)
final class CheckFinding: Sendable {
    let reason: String
    let detail: ViolationDetail

    init(reason: String, detail: String) {
        self.reason = reason
        self.detail = ViolationDetail(detail)
    }

    /// A detail of the shape `"pod or \(containers: names) must set …"`, written only when a message is.
    init(reason: String, containersDetail: ViolationDetail) {
        self.reason = reason
        self.detail = containersDetail
    }

    /// Any detail kept unwritten (a violation's, when its reason or detail is replaced).
    init(reason: String, unwrittenDetail: ViolationDetail) {
        self.reason = reason
        self.detail = unwrittenDetail
    }
}
