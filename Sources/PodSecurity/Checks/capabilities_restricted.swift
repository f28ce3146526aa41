/// Restricted, v1.22+: every container drops `ALL` and adds nothing but `NET_BIND_SERVICE`. Replaces
/// `capabilities_baseline`. From v1.25 Windows pods are exempt.
extension Checks {
    static let capabilitiesRestricted = Check(id: "capabilities_restricted", level: .restricted, versions: [
        VersionedCheck(minimumMinor: 22, overrides: ["capabilities_baseline"], evaluate: capabilitiesRestrictedV1Dot22),
        VersionedCheck(minimumMinor: 25, overrides: ["capabilities_baseline"], evaluate: capabilitiesRestrictedV1Dot25),
    ])

    @Sendable static func capabilitiesRestrictedV1Dot22(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        let missingDropAll = spec.containerNames { !($0.securityContext?.capabilities?.drop.contains("ALL") ?? false) }
        let addingForbidden = spec.containerNames { container in
            container.securityContext?.capabilities?.add.contains { $0 != "NET_BIND_SERVICE" } ?? false
        }
        var forbiddenCapabilities: [String] = []
        if !addingForbidden.isEmpty {
            spec.forEachContainer { container in
                for capability in container.securityContext?.capabilities?.add ?? [] where capability != "NET_BIND_SERVICE" {
                    forbiddenCapabilities.append(capability)
                }
            }
        }
        var details: [String] = []
        if !missingDropAll.isEmpty {
            details.append(String(concatenating: "\(containers: missingDropAll) must set securityContext.capabilities.drop=[\"ALL\"]"))
        }
        if !addingForbidden.isEmpty {
            details.append(String(concatenating: "\(containers: addingForbidden) must not include \(joinQuote(sortedUnique(forbiddenCapabilities))) in securityContext.capabilities.add"))
        }
        guard !details.isEmpty else { return nil }
        return CheckFinding(reason: "unrestricted capabilities", detail: details.joined(separator: "; "))
    }

    @Sendable static func capabilitiesRestrictedV1Dot25(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        spec.isWindows ? nil : capabilitiesRestrictedV1Dot22(metadata, spec)
    }
}
