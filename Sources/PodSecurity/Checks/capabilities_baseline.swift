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
        var badContainers: [String] = []
        var nonDefault: [String] = []
        spec.forEachContainer { container in
            guard let capabilities = container.securityContext?.capabilities else { return }
            var valid = true
            for capability in capabilities.add where !baselineAllowedCapabilities.contains(capability) {
                valid = false
                nonDefault.append(capability)
            }
            if !valid { badContainers.append(container.name) }
        }
        guard !badContainers.isEmpty else { return nil }
        return CheckFinding(
            reason: "non-default capabilities",
            detail: String(concatenating: "\(containersPhrase(badContainers)) must not include \(joinQuote(sortedUnique(nonDefault))) in securityContext.capabilities.add"))
    }
}
