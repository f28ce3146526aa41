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

    /// The type names a failing volume may have (`restrictedVolumeSources`' and `unknown`), sorted as Go sorts
    /// strings; and for each source of `restrictedVolumeSources` (then `unknown`), its name's place in that order.
    static let restrictedTypeNames: [String] = (restrictedVolumeSources.map(\.rawValue) + ["unknown"])
        .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    static let restrictedTypePlaces: [Int] = (restrictedVolumeSources.map(\.rawValue) + ["unknown"]).map {
        restrictedTypeNames.firstIndex(of: $0)!
    }

    @Sendable static func restrictedVolumesV1Dot0(_ metadata: PodMetadata, _ spec: PodSpec) -> CheckFinding? {
        // The failing volumes are found twice, once to measure the detail and once to write it (a mask test
        // each), and their types kept as a bit each in `restrictedTypeNames`' (sorted) order: no arrays of names
        // and types made, sorted and freed (~1,000 instructions per failing pod).
        let allowedBits = allowedVolumeSourceBits
        var volumeCount = 0, typeBits: UInt64 = 0, typeCount = 0
        var length = 0
        spec.volumes.withUnsafeBufferPointer { volumes in
            for index in volumes.indices where !volumes[index].hasAny(of: allowedBits) {
                volumeCount += 1
                length += volumes[index].name.utf8.count
                let source = restrictedVolumeSources.firstIndex { volumes[index].has($0) } ?? restrictedVolumeSources.count
                let place = restrictedTypePlaces[source]
                if typeBits & 1 << UInt64(place) == 0 {
                    typeBits |= 1 << UInt64(place)
                    typeCount += 1
                    length += restrictedTypeNames[place].utf8.count
                }
            }
        }
        guard volumeCount > 0 else { return nil }
        // `volume(s) "a", "b" use(s) restricted volume type(s) "hostPath", ...`, written once into the detail (as an
        // interpolation of nine pieces with two joined lists it was three strings).
        let noun: StaticString = volumeCount == 1 ? "volume " : "volumes "
        let verb: StaticString = volumeCount == 1 ? " uses " : " use "
        let typeNoun: StaticString = typeCount == 1 ? "restricted volume type " : "restricted volume types "
        length += noun.utf8CodeUnitCount + verb.utf8CodeUnitCount + typeNoun.utf8CodeUnitCount
            + 4 * (volumeCount - 1) + 2 + 4 * (typeCount - 1) + 2
        return CheckFinding(
            reason: "restricted volume types",
            detail: String(capacity: length) { text in
                text.write(literal: noun)
                spec.volumes.withUnsafeBufferPointer { writeFailingNames($0, allowedBits, to: &text) }
                text.write(literal: verb)
                text.write(literal: typeNoun)
                writeTypeNames(typeBits, to: &text)
            })
    }

    /// `"a", "b"`: the names of the volumes with none of `allowedBits`' sources, quoted and joined by `, `
    /// (`joinQuote`).
    private static func writeFailingNames(_ volumes: UnsafeBufferPointer<Volume>, _ allowedBits: UInt64,
                                          to text: inout UTF8Writer) {
        var separated = false
        text.write(literal: "\"")
        for index in volumes.indices where !volumes[index].hasAny(of: allowedBits) {
            if separated { text.write(literal: "\", \"") }
            separated = true
            text.write(volumes[index].name)
        }
        text.write(literal: "\"")
    }

    /// `"a", "b"`: the type names at the set bits of `bits`, in `restrictedTypeNames`' order, quoted and joined.
    private static func writeTypeNames(_ bits: UInt64, to text: inout UTF8Writer) {
        var remaining = bits
        var separated = false
        text.write(literal: "\"")
        while remaining != 0 {
            if separated { text.write(literal: "\", \"") }
            separated = true
            text.write(restrictedTypeNames[remaining.trailingZeroBitCount])
            remaining &= remaining &- 1
        }
        text.write(literal: "\"")
    }
}
