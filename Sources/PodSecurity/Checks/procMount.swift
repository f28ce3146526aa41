/// Baseline, v1.0+: the default /proc masks stay on (`procMount` unset or `Default`). From v1.35 a pod in
/// a user namespace (`hostUsers: false`) may set any value at baseline; restricted keeps the v1.0 rule
/// through `procMount_restricted`.
extension Checks {
    static let procMount = Check(id: "procMount", level: .baseline, versions: [
        VersionedCheck(minimumMinor: 0, evaluate: procMountV1Dot0),
        VersionedCheck(minimumMinor: 35, evaluate: procMountV1Dot35Baseline),
    ])

    @Sendable static func procMountV1Dot0(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        let badContainers = spec.containerNames { container in
            container.securityContext?.procMount.map { $0 != "Default" } ?? false
        }
        guard !badContainers.isEmpty else { return nil }
        var badTypes: [String] = []
        spec.forEachContainer { container in
            if let procMount = container.securityContext?.procMount, procMount != "Default" { badTypes.append(procMount) }
        }
        return CheckFinding(
            reason: "procMount",
            detail: String(concatenating: "\(containers: badContainers) must not set securityContext.procMount to \(joinQuote(sortedUnique(badTypes)))"))
    }

    @Sendable static func procMountV1Dot35Baseline(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        spec.isInUserNamespace ? nil : procMountV1Dot0(metadata, spec)
    }
}
