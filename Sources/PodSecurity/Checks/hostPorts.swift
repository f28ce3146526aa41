/// Baseline, v1.0+: no host ports on any container.
extension Checks {
    static let hostPorts = Check(id: "hostPorts", level: .baseline, versions: [
        VersionedCheck(minimumMinor: 0, evaluate: hostPortsV1Dot0),
    ])

    @Sendable static func hostPortsV1Dot0(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        var badContainers: [String] = []
        var ports: [String] = []
        spec.forEachContainer { container in
            var valid = true
            for port in container.ports where port.hostPort != 0 {
                valid = false
                ports.append(String(port.hostPort))
            }
            if !valid { badContainers.append(container.name) }
        }
        guard !badContainers.isEmpty else { return nil }
        // Upstream keeps the ports in a string set: sorted as strings, not as numbers.
        let portList = sortedUnique(ports)
        return CheckFinding(
            reason: "hostPort",
            detail: String(concatenating: "\(containersPhrase(badContainers)) \(pluralize("uses", "use", badContainers.count)) \(pluralize("hostPort", "hostPorts", portList.count)) \(portList.joined(separator: ", "))"))
    }
}
