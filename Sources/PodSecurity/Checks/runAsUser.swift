/// Restricted, v1.23+: no `runAsUser: 0`, at pod or container level. From v1.35 a pod in a user namespace
/// (`hostUsers: false`) is exempt.
extension Checks {
    static let runAsUser = Check(id: "runAsUser", level: .restricted, versions: [
        VersionedCheck(minimumMinor: 23, evaluate: runAsUserV1Dot23),
        VersionedCheck(minimumMinor: 35, evaluate: runAsUserV1Dot35),
    ])

    @Sendable static func runAsUserV1Dot23(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        var badSetters: [String] = []
        if spec.securityContext?.runAsUser == 0 { badSetters.append("pod") }
        let badContainers = spec.containerNames { $0.securityContext?.runAsUser == 0 }
        if !badContainers.isEmpty { badSetters.append(containersPhrase(badContainers)) }
        guard !badSetters.isEmpty else { return nil }
        return CheckFinding(reason: "runAsUser=0", detail: String(concatenating: "\(badSetters.joined(separator: " and ")) must not set runAsUser=0"))
    }

    @Sendable static func runAsUserV1Dot35(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        spec.isInUserNamespace ? nil : runAsUserV1Dot23(metadata, spec)
    }
}
