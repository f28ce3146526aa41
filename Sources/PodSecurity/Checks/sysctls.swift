/// Baseline, v1.0+: only the namespaced, isolated ("safe") sysctls. The safe set grew at v1.27, v1.29,
/// v1.32 and v1.37.
extension Checks {
    static let sysctls = Check(id: "sysctls", level: .baseline, versions: [
        VersionedCheck(minimumMinor: 0) { sysctls($0, $1, allowed: safeSysctlsV1Dot0) },
        VersionedCheck(minimumMinor: 27) { sysctls($0, $1, allowed: safeSysctlsV1Dot27) },
        VersionedCheck(minimumMinor: 29) { sysctls($0, $1, allowed: safeSysctlsV1Dot29) },
        VersionedCheck(minimumMinor: 32) { sysctls($0, $1, allowed: safeSysctlsV1Dot32) },
        VersionedCheck(minimumMinor: 37) { sysctls($0, $1, allowed: safeSysctlsV1Dot37) },
    ])

    static let safeSysctlsV1Dot0: Set<String> = [
        "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
    ]
    static let safeSysctlsV1Dot27 = safeSysctlsV1Dot0.union(["net.ipv4.ip_local_reserved_ports"])
    static let safeSysctlsV1Dot29 = safeSysctlsV1Dot27.union([
        "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    ])
    static let safeSysctlsV1Dot32 = safeSysctlsV1Dot29.union(["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"])
    static let safeSysctlsV1Dot37 = safeSysctlsV1Dot32.union([
        "net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat",
    ])

    static func sysctls(_ metadata: PodMetadata, _ spec: PodSpec, allowed: Set<String>) -> CheckFinding? {
        guard let sysctls = spec.securityContext?.sysctls else { return nil }
        // Upstream lists every forbidden entry in the pod's order, repeats included.
        let forbidden = sysctls.filter { !allowed.contains($0.name) }.map(\.name)
        guard !forbidden.isEmpty else { return nil }
        return CheckFinding(reason: "forbidden sysctls", detail: forbidden.joined(separator: ", "))
    }
}
