import PodSecurity

/// The namespace labels Pod Security Admission reads (PSA's `api/constants.go`).
public enum PodSecurityLabels {
    public static let prefix = "pod-security.kubernetes.io/"
    public static let enforce = "pod-security.kubernetes.io/enforce"
    public static let enforceVersion = "pod-security.kubernetes.io/enforce-version"
    public static let audit = "pod-security.kubernetes.io/audit"
    public static let auditVersion = "pod-security.kubernetes.io/audit-version"
    public static let warn = "pod-security.kubernetes.io/warn"
    public static let warnVersion = "pod-security.kubernetes.io/warn-version"
}

/// The audit annotation keys PSA writes (without the `pod-security.kubernetes.io/` prefix the apiserver adds).
public enum PodSecurityAnnotations {
    public static let enforcePolicy = "enforce-policy"
    public static let auditViolations = "audit-violations"
    public static let exempt = "exempt"
    public static let error = "error"
}

/// The policy of a namespace in the three modes (PSA's `api.Policy`).
public struct NamespacePolicy: Sendable, Hashable, CustomStringConvertible {
    public var enforce: LevelVersion
    public var audit: LevelVersion
    public var warn: LevelVersion

    public init(enforce: LevelVersion, audit: LevelVersion, warn: LevelVersion) {
        self.enforce = enforce
        self.audit = audit
        self.warn = warn
    }

    /// privileged:latest in every mode.
    public static let privileged: NamespacePolicy = {
        let lv = LevelVersion(level: .privileged, version: .latest)
        return NamespacePolicy(enforce: lv, audit: lv, warn: lv)
    }()

    /// Every mode is privileged (PSA's `FullyPrivileged`).
    public var isFullyPrivileged: Bool {
        enforce.level == .privileged && audit.level == .privileged && warn.level == .privileged
    }

    /// PSA's `Policy.Equivalent`: each mode equal, or privileged at any version.
    public func isEquivalent(to other: NamespacePolicy) -> Bool {
        Self.equivalent(enforce, other.enforce) && Self.equivalent(audit, other.audit) && Self.equivalent(warn, other.warn)
    }

    static func equivalent(_ a: LevelVersion, _ b: LevelVersion) -> Bool {
        (a.level == .privileged && b.level == .privileged) || a == b
    }

    public var description: String {
        // Written once per request (the log): in one string allocated once, as a denial's text is.
        String(concatenating: "enforce=\(enforce.description), audit=\(audit.description), warn=\(warn.description)")
    }

    /// Resolves the namespace labels over `defaults`, exactly as PSA's `api.PolicyToEvaluate`: an invalid enforce
    /// level fails closed (restricted), invalid audit/warn levels fail open (privileged), an invalid version is
    /// `latest`; warn takes the enforce level (and version, unless warn-version is set) when warn is unset and
    /// enforce is validly set to something stricter. A policy is always returned, with the label errors.
    public static func resolve(labels: [String: String], defaults: NamespacePolicy) -> (policy: NamespacePolicy, errors: [FieldError]) {
        var policy = defaults
        var errors: [FieldError] = []
        if labels.isEmpty { return (policy, errors) }

        func level(_ label: String, failOpen: Bool) -> Level? {
            guard let text = labels[label] else { return nil }
            if let level = Level(parsing: text) { return level }
            errors.append(.labelInvalid(label, text, detail: "must be one of privileged, baseline, restricted"))
            return failOpen ? .privileged : .restricted
        }
        func version(_ label: String) -> Version? {
            guard let text = labels[label] else { return nil }
            if let version = Version(parsing: text) { return version }
            errors.append(.labelInvalid(label, text, detail: "must be \"latest\" or \"v1.x\""))
            return .latest
        }

        var hasEnforceLevel = false
        if let text = labels[PodSecurityLabels.enforce] {
            hasEnforceLevel = Level(parsing: text) != nil  // don't default warn from an invalid enforce level
        }
        if let value = level(PodSecurityLabels.enforce, failOpen: false) { policy.enforce.level = value }
        if let value = version(PodSecurityLabels.enforceVersion) { policy.enforce.version = value }
        if let value = level(PodSecurityLabels.audit, failOpen: true) { policy.audit.level = value }
        if let value = version(PodSecurityLabels.auditVersion) { policy.audit.version = value }
        let hasWarnLevel = labels[PodSecurityLabels.warn] != nil
        let hasWarnVersion = labels[PodSecurityLabels.warnVersion] != nil
        if let value = level(PodSecurityLabels.warn, failOpen: true) { policy.warn.level = value }
        if let value = version(PodSecurityLabels.warnVersion) { policy.warn.version = value }

        if !hasWarnLevel && hasEnforceLevel && policy.enforce.level > policy.warn.level {
            policy.warn.level = policy.enforce.level
            if !hasWarnVersion { policy.warn.version = policy.enforce.version }
        }
        return (policy, errors)
    }
}

/// A field validation error, printed as Kubernetes prints `field.Error`: `path: Invalid value: "x": detail`.
public struct FieldError: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case invalid = "Invalid value"
        case duplicate = "Duplicate value"
        case required = "Required value"
        case typeInvalid = "Invalid type"

        /// The `reason` of a Status cause (`metav1.CauseType`).
        public var causeType: String {
            switch self {
            case .invalid: "FieldValueInvalid"
            case .duplicate: "FieldValueDuplicate"
            case .required: "FieldValueRequired"
            case .typeInvalid: "FieldValueTypeInvalid"
            }
        }
    }

    public var kind: Kind
    public var field: String
    /// The offending value, quoted as Go's `%q` in messages; nil when the message omits it.
    public var badValue: String?
    public var detail: String

    public init(kind: Kind, field: String, badValue: String?, detail: String) {
        self.kind = kind
        self.field = field
        self.badValue = badValue
        self.detail = detail
    }

    static func labelInvalid(_ label: String, _ value: String, detail: String) -> FieldError {
        FieldError(kind: .invalid, field: "metadata.labels[\(label)]", badValue: value, detail: detail)
    }

    /// `Invalid value: "foo": detail` (Go's `ErrorBody`).
    public var body: String {
        var text = kind.rawValue
        if kind != .required, let badValue { text += ": " + goQuoted(badValue) }
        if !detail.isEmpty { text += ": " + detail }
        return text
    }

    public var description: String { "\(field): \(body)" }
}

/// Joins errors as Go's `ErrorList.ToAggregate().Error()` does: duplicates dropped, one error alone, several in
/// brackets separated by ", ".
func aggregateDescription(_ errors: [FieldError]) -> String {
    var seen = Set<String>()
    var messages: [String] = []
    for error in errors where seen.insert(error.description).inserted { messages.append(error.description) }
    if messages.count == 1 { return messages[0] }
    return "[" + messages.joined(separator: ", ") + "]"
}

/// Go's `%q`, as PSA's messages quote names (one implementation, in PodSecurity).
func goQuoted(_ text: String) -> String { GoSyntax.quoted(text) }
