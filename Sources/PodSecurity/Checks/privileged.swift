/// Baseline, v1.0+: no privileged containers.
extension Checks {
    static let privileged = Check(id: "privileged", level: .baseline, versions: [
        VersionedCheck(minimumMinor: 0, evaluate: privilegedV1Dot0),
    ])

    @Sendable static func privilegedV1Dot0(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        let isBad: (borrowing Container) -> Bool = { $0.securityContext?.privileged == true }
        let badContainers = spec.containerMask(where: isBad)
        guard !badContainers.isEmpty else { return nil }
        return CheckFinding(reason: "privileged", containersDetail: ViolationDetail("", containers: spec.containerNames(badContainers, where: isBad), " must not set securityContext.privileged=true"))
    }
}
