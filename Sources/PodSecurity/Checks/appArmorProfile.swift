/// Baseline, v1.0+: AppArmor may not be disabled or overridden beyond the runtime default or a localhost
/// profile, through the fields (`appArmorProfile.type`) or the deprecated per-container annotations.
/// The field check was added to the v1.0 behaviour upstream, so it applies at every version.
extension Checks {
    static let appArmorProfile = Check(id: "appArmorProfile", level: .baseline, versions: [
        VersionedCheck(minimumMinor: 0, evaluate: appArmorProfileV1Dot0),
    ])

    static let appArmorAnnotationPrefix = "container.apparmor.security.beta.kubernetes.io/"

    @Sendable static func appArmorProfileV1Dot0(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        func allowedType(_ type: String) -> Bool { type == "RuntimeDefault" || type == "Localhost" }
        func allowedAnnotation(_ value: String) -> Bool {
            value.isEmpty || value == "runtime/default" || value.hasPrefix("localhost/")
        }

        var badSetters: [String] = []
        var badValues: [String] = []
        if let profile = spec.securityContext?.appArmorProfile, !allowedType(profile.type) {
            badSetters.append("pod")
            badValues.append(profile.type)
        }
        let badContainers = spec.containerNames { container in
            container.securityContext?.appArmorProfile.map { !allowedType($0.type) } ?? false
        }
        if !badContainers.isEmpty {
            spec.forEachContainer { container in
                if let profile = container.securityContext?.appArmorProfile, !allowedType(profile.type) {
                    badValues.append(profile.type)
                }
            }
            badSetters.append(containersPhrase(badContainers))
        }

        var forbiddenAnnotations: [String] = []
        for (key, value) in metadata.annotations where key.hasPrefix(appArmorAnnotationPrefix) && !allowedAnnotation(value) {
            forbiddenAnnotations.append(String(concatenating: "\(key)=\(goQuoted(value))"))
        }
        // Nearly every pod passes: nothing to sort or join for it.
        guard !badSetters.isEmpty || !forbiddenAnnotations.isEmpty else { return nil }
        var valueList = sortedUnique(badValues)
        if !forbiddenAnnotations.isEmpty {
            let sortedAnnotations = sortedUnique(forbiddenAnnotations)
            valueList += sortedAnnotations
            badSetters.append(pluralize("annotation", "annotations", sortedAnnotations.count))
        }
        guard !badSetters.isEmpty else { return nil }
        return CheckFinding(
            reason: pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", valueList.count),
            detail: String(concatenating: "\(badSetters.joined(separator: " and ")) must not set AppArmor profile type to \(joinQuote(valueList))"))
    }
}
