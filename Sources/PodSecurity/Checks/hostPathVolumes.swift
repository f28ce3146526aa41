/// Baseline, v1.0+: no hostPath volumes. (Restricted replaces this with `restrictedVolumes`.)
extension Checks {
    static let hostPathVolumes = Check(id: "hostPathVolumes", level: .baseline, versions: [
        VersionedCheck(minimumMinor: 0, evaluate: hostPathVolumesV1Dot0),
    ])

    @Sendable static func hostPathVolumesV1Dot0(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        let names = spec.volumes.filter { $0.has(.hostPath) }.map(\.name)
        guard !names.isEmpty else { return nil }
        return CheckFinding(reason: "hostPath volumes", detail: String(concatenating: "\(pluralize("volume", "volumes", names.count)) \(joinQuote(names))"))
    }
}
