/// Restricted, v1.0+: containers run as non-root: `runAsNonRoot: true` on the pod or on every container,
/// and `false` nowhere. From v1.35 a pod in a user namespace (`hostUsers: false`) is exempt.
extension Checks {
    static let runAsNonRoot = Check(id: "runAsNonRoot", level: .restricted, versions: [
        VersionedCheck(minimumMinor: 0, evaluate: runAsNonRootV1Dot0),
        VersionedCheck(minimumMinor: 35, evaluate: runAsNonRootV1Dot35),
    ])

    @Sendable static func runAsNonRootV1Dot0(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        var badSetters: [String] = []
        var podRunAsNonRoot = false
        if let value = spec.securityContext?.runAsNonRoot {
            if value { podRunAsNonRoot = true } else { badSetters.append("pod") }
        }
        let explicitlyBad = spec.containerNames { $0.securityContext?.runAsNonRoot == false }
        let isImplicitlyBad: (borrowing Container) -> Bool = { $0.securityContext?.runAsNonRoot == nil }
        let implicitlyBad = podRunAsNonRoot ? ContainerMask() : spec.containerMask(where: isImplicitlyBad)
        if !explicitlyBad.isEmpty { badSetters.append(containersPhrase(explicitlyBad)) }
        if !badSetters.isEmpty {
            return CheckFinding(
                reason: "runAsNonRoot != true",
                detail: String(concatenating: "\(badSetters.joined(separator: " and ")) must not set securityContext.runAsNonRoot=false"))
        }
        if !implicitlyBad.isEmpty {
            return CheckFinding(
                reason: "runAsNonRoot != true",
                containersDetail: ViolationDetail("pod or ", containers: spec.containerNames(implicitlyBad, where: isImplicitlyBad), " must set securityContext.runAsNonRoot=true"))
        }
        return nil
    }

    @Sendable static func runAsNonRootV1Dot35(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        spec.isInUserNamespace ? nil : runAsNonRootV1Dot0(metadata, spec)
    }
}
