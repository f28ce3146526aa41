/// Baseline, v1.0+: containers may add only capabilities from the container runtime's default set.
extension Checks {
    static let capabilitiesBaseline = Check(id: "capabilities_baseline", level: .baseline, versions: [
        VersionedCheck(minimumMinor: 0, evaluate: capabilitiesBaselineV1Dot0),
    ])

    static let baselineAllowedCapabilities: Set<String> = [
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
        "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    ]

    @Sendable static func capabilitiesBaselineV1Dot0(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        let badContainers = spec.containerNames { container in
            container.securityContext?.capabilities?.add.contains { !baselineAllowedCapabilities.contains($0) } ?? false
        }
        guard !badContainers.isEmpty else { return nil }
        var nonDefault: [String] = []
        spec.forEachContainer { container in
            for capability in container.securityContext?.capabilities?.add ?? [] where !baselineAllowedCapabilities.contains(capability) {
                nonDefault.append(capability)
            }
        }
        return CheckFinding(
            reason: "non-default capabilities",
            detail: String(concatenating: "\(containers: badContainers) must not include \(joinQuote(sortedUnique(nonDefault))) in securityContext.capabilities.add"))
    }
}
