/// Baseline, v1.0+: no privileged containers.
extension Checks {
    static let privileged = Check(id: "privileged", level: .baseline, versions: [
        VersionedCheck(minimumMinor: 0, evaluate: privilegedV1Dot0),
    ])

    @Sendable static func privilegedV1Dot0(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        let badContainers = spec.containerNames { $0.securityContext?.privileged == true }
        guard !badContainers.isEmpty else { return nil }
        return CheckFinding(reason: "privileged", containersDetail: "\(containers: badContainers) must not set securityContext.privileged=true")
    }
}
