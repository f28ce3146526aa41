import PodSecurity

enum BuildInfo {
    static let version = "0.1.0"
    static var newestPolicyVersion: String { Version.newestKnown.description }
}
