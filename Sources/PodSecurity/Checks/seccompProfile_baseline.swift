/// Baseline: seccomp may not be set to `Unconfined`. Before v1.19 through the alpha annotations; from
/// v1.19 through the `seccompProfile` fields.
extension Checks {
    static let seccompProfileBaseline = Check(id: "seccompProfile_baseline", level: .baseline, versions: [
        VersionedCheck(minimumMinor: 0, evaluate: seccompProfileBaselineV1Dot0),
        VersionedCheck(minimumMinor: 19, evaluate: seccompProfileBaselineV1Dot19),
    ])

    static let seccompPodAnnotation = "seccomp.security.alpha.kubernetes.io/pod"
    static let seccompContainerAnnotationPrefix = "container.seccomp.security.alpha.kubernetes.io/"

    static func isValidSeccompType(_ type: String) -> Bool { type == "Localhost" || type == "RuntimeDefault" }

    static func isValidSeccompAnnotation(_ value: String) -> Bool {
        value == "runtime/default" || value == "docker/default" || value.hasPrefix("localhost/")
    }

    @Sendable static func seccompProfileBaselineV1Dot0(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        var forbidden: [String] = []
        if let value = metadata.annotations[seccompPodAnnotation], !isValidSeccompAnnotation(value) {
            forbidden.append(String(concatenating: "\(seccompPodAnnotation)=\(goQuoted(value))"))
        }
        spec.forEachContainer { container in
            let key = seccompContainerAnnotationPrefix + container.name
            if let value = metadata.annotations[key], !isValidSeccompAnnotation(value) {
                forbidden.append(String(concatenating: "\(key)=\(goQuoted(value))"))
            }
        }
        guard !forbidden.isEmpty else { return nil }
        let list = sortedUnique(forbidden)
        return CheckFinding(
            reason: "seccompProfile",
            detail: String(concatenating: "forbidden \(pluralize("annotation", "annotations", list.count)) \(list.joined(separator: ", "))"))
    }

    @Sendable static func seccompProfileBaselineV1Dot19(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        var badSetters: [String] = []
        var badValues: [String] = []
        if let profile = spec.securityContext?.seccompProfile, !isValidSeccompType(profile.type) {
            badSetters.append("pod")
            badValues.append(profile.type)
        }
        let badContainers = spec.containerNames { container in
            container.securityContext?.seccompProfile.map { !isValidSeccompType($0.type) } ?? false
        }
        if !badContainers.isEmpty {
            spec.forEachContainer { container in
                if let profile = container.securityContext?.seccompProfile, !isValidSeccompType(profile.type) {
                    badValues.append(profile.type)
                }
            }
            badSetters.append(containersPhrase(badContainers))
        }
        guard !badSetters.isEmpty else { return nil }
        return CheckFinding(
            reason: "seccompProfile",
            detail: String(concatenating: "\(badSetters.joined(separator: " and ")) must not set securityContext.seccompProfile.type to \(joinQuote(sortedUnique(badValues)))"))
    }
}
