/// Restricted, v1.0+: only the volume types that need no privileges: configMap, csi, downwardAPI, emptyDir,
/// ephemeral, image, persistentVolumeClaim, projected, secret. Replaces `hostPathVolumes`.
extension Checks {
    static let restrictedVolumes = Check(id: "restrictedVolumes", level: .restricted, versions: [
        VersionedCheck(minimumMinor: 0, overrides: ["hostPathVolumes"], evaluate: restrictedVolumesV1Dot0),
    ])

    static let allowedVolumeSources: [VolumeSourceKind] = [
        .configMap, .csi, .downwardAPI, .emptyDir, .ephemeral, .image, .persistentVolumeClaim, .projected, .secret,
    ]
    /// `allowedVolumeSources` as a mask of their bits, which a volume is tested against in one step.
    static let allowedVolumeSourceBits = allowedVolumeSources.reduce(0) { $0 | $1.bit }

    /// The restricted sources in the order upstream tests them: the first one set names the volume's type.
    static let restrictedVolumeSources: [VolumeSourceKind] = [
        .hostPath, .gcePersistentDisk, .awsElasticBlockStore, .gitRepo, .nfs, .iscsi, .glusterfs, .rbd, .flexVolume,
        .cinder, .cephfs, .flocker, .fc, .azureFile, .vsphereVolume, .quobyte, .azureDisk, .photonPersistentDisk,
        .portworxVolume, .scaleIO, .storageos,
    ]

    @Sendable static func restrictedVolumesV1Dot0(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        var badVolumes: [String] = []
        var badTypes: [String] = []
        // By index: a `for in` loop copied each volume, retaining and releasing its name, though a passing pod
        // names none.
        let allowedBits = allowedVolumeSourceBits
        for index in spec.volumes.indices where !spec.volumes[index].hasAny(of: allowedBits) {
            let volume = spec.volumes[index]
            badVolumes.append(volume.name)
            badTypes.append(restrictedVolumeSources.first(where: volume.has)?.rawValue ?? "unknown")
        }
        guard !badVolumes.isEmpty else { return nil }
        let types = sortedUnique(badTypes)
        // `volume(s) "a", "b" use(s) restricted volume type(s) "hostPath", ...`, written once into the detail: made
        // as an interpolation of nine pieces with two joined lists, it was three strings and ~5,000 instructions.
        let one = badVolumes.count == 1
        let noun: StaticString = one ? "volume " : "volumes "
        let verb: StaticString = one ? " uses " : " use "
        let typeNoun: StaticString = types.count == 1 ? "restricted volume type " : "restricted volume types "
        let length = noun.utf8CodeUnitCount + UTF8Writer.quotedListLength(badVolumes) + verb.utf8CodeUnitCount
            + typeNoun.utf8CodeUnitCount + UTF8Writer.quotedListLength(types)
        return CheckFinding(
            reason: "restricted volume types",
            detail: String(capacity: length) { text in
                text.write(literal: noun)
                text.writeQuotedList(badVolumes)
                text.write(literal: verb)
                text.write(literal: typeNoun)
                text.writeQuotedList(types)
            })
    }
}
