/// Baseline, v1.0+: SELinux type only from the container types; user and role never set.
/// v1.31 adds `container_engine_t` to the allowed types.
extension Checks {
    static let seLinuxOptions = Check(id: "seLinuxOptions", level: .baseline, versions: [
        VersionedCheck(minimumMinor: 0) { seLinuxOptions($0, $1, allowedTypes: seLinuxTypesV1Dot0) },
        VersionedCheck(minimumMinor: 31) { seLinuxOptions($0, $1, allowedTypes: seLinuxTypesV1Dot31) },
    ])

    static let seLinuxTypesV1Dot0: Set<String> = ["", "container_t", "container_init_t", "container_kvm_t"]
    static let seLinuxTypesV1Dot31: Set<String> = seLinuxTypesV1Dot0.union(["container_engine_t"])

    static func seLinuxOptions(_ metadata: PodMetadata, _ spec: PodSpec, allowedTypes: Set<String>) -> CheckFinding? {
        var badTypes: [String] = []
        var setUser = false
        var setRole = false
        func valid(_ options: SELinuxOptions) -> Bool {
            var valid = true
            if !allowedTypes.contains(options.type) {
                valid = false
                badTypes.append(options.type)
            }
            if !options.user.isEmpty {
                valid = false
                setUser = true
            }
            if !options.role.isEmpty {
                valid = false
                setRole = true
            }
            return valid
        }

        var badSetters: [String] = []
        if let options = spec.securityContext?.seLinuxOptions, !valid(options) { badSetters.append("pod") }
        var badContainers: [String] = []
        spec.forEachContainer { container in
            if let options = container.securityContext?.seLinuxOptions, !valid(options) {
                badContainers.append(container.name)
            }
        }
        if !badContainers.isEmpty { badSetters.append(containersPhrase(badContainers)) }
        guard !badSetters.isEmpty else { return nil }

        var problems: [String] = []
        if !badTypes.isEmpty {
            let types = sortedUnique(badTypes)
            problems.append(String(concatenating: "\(pluralize("type", "types", types.count)) \(joinQuote(types))"))
        }
        if setUser { problems.append("user may not be set") }
        if setRole { problems.append("role may not be set") }
        return CheckFinding(
            reason: "seLinuxOptions",
            detail: String(concatenating: "\(badSetters.joined(separator: " and ")) set forbidden securityContext.seLinuxOptions: \(problems.joined(separator: "; "))"))
    }
}
