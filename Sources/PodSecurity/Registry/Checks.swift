/// The namespace of the checks: one file per check in `Checks/`, each adding its `Check` here.
enum Checks {
    /// Every registered check. Adding a check: write its file in `Checks/` and list it here.
    static let all: [Check] = [
        // Baseline
        appArmorProfile, capabilitiesBaseline, hostNamespaces, hostPathVolumes, hostPorts, hostProbesAndHostLifecycle,
        privileged, procMount, seLinuxOptions, seccompProfileBaseline, sysctls, windowsHostProcess,
        // Restricted
        allowPrivilegeEscalation, capabilitiesRestricted, procMountRestricted, restrictedVolumes, runAsNonRoot,
        runAsUser, seccompProfileRestricted,
    ]
}
