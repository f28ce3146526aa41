/// Baseline, v1.0+: no Windows HostProcess containers, at pod or container level.
extension Checks {
    static let windowsHostProcess = Check(id: "windowsHostProcess", level: .baseline, versions: [
        VersionedCheck(minimumMinor: 0, evaluate: windowsHostProcessV1Dot0),
    ])

    @Sendable static func windowsHostProcessV1Dot0(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        let badContainers = spec.containerNames { $0.securityContext?.windowsOptions?.hostProcess == true }
        var setters: [String] = []
        if spec.securityContext?.windowsOptions?.hostProcess == true { setters.append("pod") }
        if !badContainers.isEmpty { setters.append(containersPhrase(badContainers)) }
        guard !setters.isEmpty else { return nil }
        return CheckFinding(
            reason: "hostProcess",
            detail: String(concatenating: "\(setters.joined(separator: " and ")) must not set securityContext.windowsOptions.hostProcess=true"))
    }
}
