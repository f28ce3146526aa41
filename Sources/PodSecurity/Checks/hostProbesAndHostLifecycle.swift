/// Baseline, v1.34+: probes and lifecycle handlers may not name a host: `httpGet.host` and
/// `tcpSocket.host` stay unset (the pod's own IP), so a pod cannot make the kubelet reach other hosts.
extension Checks {
    static let hostProbesAndHostLifecycle = Check(id: "hostProbesAndHostLifecycle", level: .baseline, versions: [
        VersionedCheck(minimumMinor: 34, evaluate: hostProbesAndHostLifecycleV1Dot34),
    ])

    @Sendable static func hostProbesAndHostLifecycleV1Dot34(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        /// Calls `body` with each host the container's probes and lifecycle handlers name, handler by handler
        /// (`httpGet.host`, then `tcpSocket.host`); unset and empty hosts are skipped.
        func forEachHost(of container: borrowing Container, _ body: (String) -> Void) {
            // Handler by handler rather than through a temporary array: this runs for every container of every pod.
            func visit(_ handler: ProbeHandler?) {
                guard let handler else { return }
                if let host = handler.httpGetHost, !host.isEmpty { body(host) }
                if let host = handler.tcpSocketHost, !host.isEmpty { body(host) }
            }
            visit(container.livenessProbe)
            visit(container.readinessProbe)
            visit(container.startupProbe)
            visit(container.lifecycle?.postStart)
            visit(container.lifecycle?.preStop)
        }
        let badContainers = spec.containerNames { container in
            var namesHost = false
            forEachHost(of: container) { _ in namesHost = true }
            return namesHost
        }
        guard !badContainers.isEmpty else { return nil }
        var forbiddenHosts: [String] = []
        spec.forEachContainer { container in forEachHost(of: container) { forbiddenHosts.append($0) } }
        // Upstream keeps both containers and hosts in sets: each listed once, sorted.
        let containers = sortedUnique(badContainers)
        let hosts = sortedUnique(forbiddenHosts)
        return CheckFinding(
            reason: "probe or lifecycle host",
            detail: String(concatenating: "\(containers: containers) \(pluralize("uses", "use", containers.count)) \(pluralize("probe or lifecycle host", "probe or lifecycle hosts", hosts.count)) \(joinQuote(hosts))"))
    }
}
