/// Restricted, v1.35+: `procMount` unset or `Default` for every pod, user namespace or not. Replaces the
/// baseline `procMount` check, whose v1.35 behaviour relaxes it for user-namespace pods.
extension Checks {
    static let procMountRestricted = Check(id: "procMount_restricted", level: .restricted, versions: [
        VersionedCheck(minimumMinor: 35, overrides: ["procMount"], evaluate: procMountV1Dot0),
    ])
}
