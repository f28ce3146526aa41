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
        guard spec.volumes.count <= 64 else { return restrictedVolumesListed(spec) }
        // The failing volumes as a bit each and their types as a bit each in `restrictedTypeNames`' (sorted)
        // order, the detail then written from those in place: no arrays of names and types made, sorted and freed
        // (two arrays, ~1,000 instructions per failing pod).
        let allowedBits = allowedVolumeSourceBits
        var volumeBits: UInt64 = 0, typeBits: UInt64 = 0
        var volumeCount = 0, typeCount = 0
        var length = 0
        spec.volumes.withUnsafeBufferPointer { volumes in
            for index in volumes.indices where !volumes[index].hasAny(of: allowedBits) {
                volumeBits |= 1 << UInt64(index)
                volumeCount += 1
                length += volumes[index].name.utf8.count
                let source = restrictedVolumeSources.firstIndex { volumes[index].has($0) } ?? restrictedVolumeSources.count
                let typeBit: UInt64 = 1 << UInt64(restrictedTypePlaces[source])
                if typeBits & typeBit == 0 {
                    typeBits |= typeBit
                    typeCount += 1
                    length += restrictedTypeNames[restrictedTypePlaces[source]].utf8.count
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
                spec.volumes.withUnsafeBufferPointer { volumes in
                    writeQuoted(count: volumes.count, bits: volumeBits, to: &text) { volumes[$0].name }
                }
                text.write(literal: verb)
                text.write(literal: typeNoun)
                writeQuoted(count: restrictedTypeNames.count, bits: typeBits, to: &text) { restrictedTypeNames[$0] }
            })
    }

    /// `"a", "b"`: the names at the set bits, in order, quoted and joined by `, ` (`joinQuote`).
    @inline(__always)
    private static func writeQuoted(count: Int, bits: UInt64, to text: inout UTF8Writer, _ name: (Int) -> String) {
        var remaining = bits
        var separated = false
        text.write(literal: "\"")
        while remaining != 0 {
            if separated { text.write(literal: "\", \"") }
            separated = true
            text.write(name(remaining.trailingZeroBitCount))
            remaining &= remaining &- 1
        }
        text.write(literal: "\"")
    }

    /// The same check for a pod with more volumes than a mask has bits, from lists of the names and types.
    static func restrictedVolumesListed(_ spec: PodSpec) -> CheckFinding? {

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
