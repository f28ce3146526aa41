/// Restricted, v1.22+: every container drops `ALL` and adds nothing but `NET_BIND_SERVICE`. Replaces
/// `capabilities_baseline`. From v1.25 Windows pods are exempt.
extension Checks {
    static let capabilitiesRestricted = Check(id: "capabilities_restricted", level: .restricted, versions: [
        VersionedCheck(minimumMinor: 22, overrides: ["capabilities_baseline"], evaluate: capabilitiesRestrictedV1Dot22),
        VersionedCheck(minimumMinor: 25, overrides: ["capabilities_baseline"], evaluate: capabilitiesRestrictedV1Dot25),
    ])

    @Sendable static func capabilitiesRestrictedV1Dot22(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        let isMissingDropAll: (borrowing Container) -> Bool = { !($0.securityContext?.capabilities?.drop.contains("ALL") ?? false) }
        let missingDropAll = spec.containerMask(where: isMissingDropAll)
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
        // Most failing pods only miss drop ALL: that detail stays unwritten; with forbidden adds too, the two
        // are joined into a string as PSA joins them.
        let missingDropAllDetail: ViolationDetail? = missingDropAll.isEmpty ? nil
            : ViolationDetail("", containers: spec.containerNames(missingDropAll, where: isMissingDropAll), " must set securityContext.capabilities.drop=[\"ALL\"]")
        if addingForbidden.isEmpty {
            return missingDropAllDetail.map { CheckFinding(reason: "unrestricted capabilities", containersDetail: $0) }
        }
        let addingDetail = String(concatenating: "\(containers: addingForbidden) must not include \(joinQuote(sortedUnique(forbiddenCapabilities))) in securityContext.capabilities.add")
        return CheckFinding(
            reason: "unrestricted capabilities",
            detail: missingDropAllDetail.map { "\($0.text); \(addingDetail)" } ?? addingDetail)
    }

    @Sendable static func capabilitiesRestrictedV1Dot25(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        spec.isWindows ? nil : capabilitiesRestrictedV1Dot22(metadata, spec)
    }
}
