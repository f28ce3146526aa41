/// Baseline, v1.0+: the host's network, PID and IPC namespaces may not be shared.
extension Checks {
    static let hostNamespaces = Check(id: "hostNamespaces", level: .baseline, versions: [
        VersionedCheck(minimumMinor: 0, evaluate: hostNamespacesV1Dot0),
    ])

    @Sendable static func hostNamespacesV1Dot0(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        var shared: [String] = []
        if spec.hostNetwork { shared.append("hostNetwork=true") }
        if spec.hostPID { shared.append("hostPID=true") }
        if spec.hostIPC { shared.append("hostIPC=true") }
        guard !shared.isEmpty else { return nil }
        return CheckFinding(reason: "host namespaces", detail: shared.joined(separator: ", "))
    }
}
