/// Baseline, v1.0+: no host ports on any container.
extension Checks {
    static let hostPorts = Check(id: "hostPorts", level: .baseline, versions: [
        VersionedCheck(minimumMinor: 0, evaluate: hostPortsV1Dot0),
    ])

    @Sendable static func hostPortsV1Dot0(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        let badContainers = spec.containerNames { $0.ports.contains { $0.hostPort != 0 } }
        guard !badContainers.isEmpty else { return nil }
        var ports: [String] = []
        spec.forEachContainer { container in
            for port in container.ports where port.hostPort != 0 { ports.append(String(port.hostPort)) }
        }
        // Upstream keeps the ports in a string set: sorted as strings, not as numbers.
        let portList = sortedUnique(ports)
        return CheckFinding(
            reason: "hostPort",
            detail: String(concatenating: "\(containers: badContainers) \(pluralize("uses", "use", badContainers.count)) \(pluralize("hostPort", "hostPorts", portList.count)) \(portList.joined(separator: ", "))"))
    }
}
