/// Baseline, v1.0+: the host's network, PID and IPC namespaces may not be shared.
extension Checks {
    static let hostNamespaces = Check(id: "hostNamespaces", level: .baseline, versions: [
        VersionedCheck(minimumMinor: 0, evaluate: hostNamespacesV1Dot0),
    ])

    @Sendable static func hostNamespacesV1Dot0(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        // The detail is one of seven literals (the namespaces shared, joined by `, ` in this order): picked, not
        // joined from an array at run time (~800 instructions per failing pod, an array and a string made).
        switch (spec.hostNetwork, spec.hostPID, spec.hostIPC) {
        case (false, false, false): return nil
        case (true, false, false): return finding("hostNetwork=true")
        case (false, true, false): return finding("hostPID=true")
        case (false, false, true): return finding("hostIPC=true")
        case (true, true, false): return finding("hostNetwork=true, hostPID=true")
        case (true, false, true): return finding("hostNetwork=true, hostIPC=true")
        case (false, true, true): return finding("hostPID=true, hostIPC=true")
        case (true, true, true): return finding("hostNetwork=true, hostPID=true, hostIPC=true")
        }
        func finding(_ detail: String) -> CheckFinding { CheckFinding(reason: "host namespaces", detail: detail) }
    }
}
