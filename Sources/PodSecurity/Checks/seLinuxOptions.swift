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
        func valid(_ options: SELinuxOptions) -> Bool {
            allowedTypes.contains(options.type) && options.user.isEmpty && options.role.isEmpty
        }
        var badTypes: [String] = []
        var setUser = false
        var setRole = false
        /// Notes what makes `options` invalid.
        func record(_ options: SELinuxOptions) {
            if !allowedTypes.contains(options.type) { badTypes.append(options.type) }
            if !options.user.isEmpty { setUser = true }
            if !options.role.isEmpty { setRole = true }
        }

        var badSetters: [String] = []
        if let options = spec.securityContext?.seLinuxOptions, !valid(options) {
            record(options)
            badSetters.append("pod")
        }
        let badContainers = spec.containerNames { $0.securityContext?.seLinuxOptions.map { !valid($0) } ?? false }
        if !badContainers.isEmpty {
            spec.forEachContainer { container in
                if let options = container.securityContext?.seLinuxOptions { record(options) }
            }
            badSetters.append(containersPhrase(badContainers))
        }
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
