/// Restricted, v1.19+: seccomp explicitly `RuntimeDefault` or `Localhost`, on the pod or on every
/// container. Replaces `seccompProfile_baseline`. From v1.25 Windows pods are exempt.
extension Checks {
    static let seccompProfileRestricted = Check(id: "seccompProfile_restricted", level: .restricted, versions: [
        VersionedCheck(minimumMinor: 19, overrides: ["seccompProfile_baseline"], evaluate: seccompProfileRestrictedV1Dot19),
        VersionedCheck(minimumMinor: 25, overrides: ["seccompProfile_baseline"], evaluate: seccompProfileRestrictedV1Dot25),
    ])

    @Sendable static func seccompProfileRestrictedV1Dot19(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        var badSetters: [String] = []
        var badValues: [String] = []
        var podSeccompSet = false
        if let profile = spec.securityContext?.seccompProfile {
            if isValidSeccompType(profile.type) {
                podSeccompSet = true
            } else {
                badSetters.append("pod")
                badValues.append(profile.type)
            }
        }
        let explicitlyBad = spec.containerNames { container in
            container.securityContext?.seccompProfile.map { !isValidSeccompType($0.type) } ?? false
        }
        if !explicitlyBad.isEmpty {
            spec.forEachContainer { container in
                if let profile = container.securityContext?.seccompProfile, !isValidSeccompType(profile.type) {
                    badValues.append(profile.type)
                }
            }
        }
        let isImplicitlyBad: (borrowing Container) -> Bool = { $0.securityContext?.seccompProfile == nil }
        let implicitlyBad = podSeccompSet ? ContainerMask() : spec.containerMask(where: isImplicitlyBad)
        if !explicitlyBad.isEmpty { badSetters.append(containersPhrase(explicitlyBad)) }
        if !badSetters.isEmpty {
            return CheckFinding(
                reason: "seccompProfile",
                detail: String(concatenating: "\(badSetters.joined(separator: " and ")) must not set securityContext.seccompProfile.type to \(joinQuote(sortedUnique(badValues)))"))
        }
        if !implicitlyBad.isEmpty {
            return CheckFinding(
                reason: "seccompProfile",
                containersDetail: ViolationDetail("pod or ", containers: spec.containerNames(implicitlyBad, where: isImplicitlyBad), " must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\""))
        }
        return nil
    }

    @Sendable static func seccompProfileRestrictedV1Dot25(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        spec.isWindows ? nil : seccompProfileRestrictedV1Dot19(metadata, spec)
    }
}
