/// Restricted, v1.8+: every container sets `allowPrivilegeEscalation: false`. From v1.25 Windows pods
/// (`spec.os.name: windows`) are exempt.
extension Checks {
    static let allowPrivilegeEscalation = Check(id: "allowPrivilegeEscalation", level: .restricted, versions: [
        VersionedCheck(minimumMinor: 8, evaluate: allowPrivilegeEscalationV1Dot8),
        VersionedCheck(minimumMinor: 25, evaluate: allowPrivilegeEscalationV1Dot25),
    ])

    @Sendable static func allowPrivilegeEscalationV1Dot8(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        let isBad: (borrowing Container) -> Bool = { $0.securityContext?.allowPrivilegeEscalation != false }
        let badContainers = spec.containerMask(where: isBad)
        guard !badContainers.isEmpty else { return nil }
        return CheckFinding(
            reason: "allowPrivilegeEscalation != false",
            containersDetail: ViolationDetail("", containers: spec.containerNames(badContainers, where: isBad), " must set securityContext.allowPrivilegeEscalation=false"))
    }

    @Sendable static func allowPrivilegeEscalationV1Dot25(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        spec.isWindows ? nil : allowPrivilegeEscalationV1Dot8(metadata, spec)
    }
}
