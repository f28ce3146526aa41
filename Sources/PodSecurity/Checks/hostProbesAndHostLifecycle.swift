/// Baseline, v1.34+: probes and lifecycle handlers may not name a host: `httpGet.host` and
/// `tcpSocket.host` stay unset (the pod's own IP), so a pod cannot make the kubelet reach other hosts.
extension Checks {
    static let hostProbesAndHostLifecycle = Check(id: "hostProbesAndHostLifecycle", level: .baseline, versions: [
        VersionedCheck(minimumMinor: 34, evaluate: hostProbesAndHostLifecycleV1Dot34),
    ])

    @Sendable static func hostProbesAndHostLifecycleV1Dot34(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        var badContainers: [String] = []
        var forbiddenHosts: [String] = []
        spec.forEachContainer { container in
            let handlers = [container.livenessProbe, container.readinessProbe, container.startupProbe,
                            container.lifecycle?.postStart, container.lifecycle?.preStop]
            var valid = true
            for case let handler? in handlers {
                for case let host? in [handler.httpGetHost, handler.tcpSocketHost] where !host.isEmpty {
                    valid = false
                    forbiddenHosts.append(host)
                }
            }
            if !valid { badContainers.append(container.name) }
        }
        guard !badContainers.isEmpty else { return nil }
        // Upstream keeps both containers and hosts in sets: each listed once, sorted.
        let containers = sortedUnique(badContainers)
        let hosts = sortedUnique(forbiddenHosts)
        return CheckFinding(
            reason: "probe or lifecycle host",
            detail: "\(containersPhrase(containers)) \(pluralize("uses", "use", containers.count)) \(pluralize("probe or lifecycle host", "probe or lifecycle hosts", hosts.count)) \(joinQuote(hosts))")
    }
}
