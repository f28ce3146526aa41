import PodSecurity
import StrictJSON

/// PSA's `PodSecurityConfiguration`: the cluster defaults and the exemptions.
public struct AdmissionConfiguration: Sendable, Hashable {
    /// The policy of a namespace without Pod Security labels.
    public var defaults: NamespacePolicy
    public var exemptions: Exemptions

    public struct Exemptions: Sendable, Hashable {
        /// Requests by these users are not evaluated.
        public var usernames: [String]
        /// Pods and workloads in these namespaces are not evaluated.
        public var namespaces: [String]
        /// Pods with these `runtimeClassName`s are not evaluated.
        public var runtimeClasses: [String]

        public init(usernames: [String] = [], namespaces: [String] = [], runtimeClasses: [String] = []) {
            self.usernames = usernames
            self.namespaces = namespaces
            self.runtimeClasses = runtimeClasses
        }
    }

    public init(defaults: NamespacePolicy = .privileged, exemptions: Exemptions = Exemptions()) {
        self.defaults = defaults
        self.exemptions = exemptions
    }

    /// privileged:latest in every mode, no exemptions (PSA's defaults).
    public static let standard = AdmissionConfiguration()

    static let podSecurityAPIVersions: Set<String> = [
        "pod-security.admission.config.k8s.io/v1",
        "pod-security.admission.config.k8s.io/v1beta1",
        "pod-security.admission.config.k8s.io/v1alpha1",
    ]
    static let admissionAPIVersions: Set<String> = [
        "apiserver.config.k8s.io/v1",
        "apiserver.config.k8s.io/v1alpha1",
        "apiserver.k8s.io/v1alpha1",
    ]

    /// Decodes and validates a `PodSecurityConfiguration` (`pod-security.admission.config.k8s.io/v1`, `v1beta1` or
    /// `v1alpha1`), or an apiserver `AdmissionConfiguration` whose `PodSecurity` plugin embeds one. Missing levels
    /// and versions default to privileged and latest; invalid values are rejected with the field named, as PSA's
    /// validation does.
    public init(decoding document: JSONValue) throws(ConfigurationError) {
        guard let object = document.objectValue else {
            throw ConfigurationError("the configuration must be a JSON object, not \(document.kindName)")
        }
        let apiVersion = try Self.string(object["apiVersion"], at: "apiVersion") ?? ""
        let kind = try Self.string(object["kind"], at: "kind") ?? ""
        if kind == "AdmissionConfiguration" && Self.admissionAPIVersions.contains(apiVersion) {
            try self.init(admissionConfiguration: object)
            return
        }
        guard kind == "PodSecurityConfiguration", Self.podSecurityAPIVersions.contains(apiVersion) else {
            throw ConfigurationError(
                "unsupported configuration apiVersion \(goQuoted(apiVersion)) kind \(goQuoted(kind)): expected "
                    + "pod-security.admission.config.k8s.io/v1 PodSecurityConfiguration")
        }
        try self.init(podSecurityConfiguration: object)
    }

    private init(admissionConfiguration object: JSONObject) throws(ConfigurationError) {
        guard let plugins = object["plugins"], !plugins.isNull else {
            throw ConfigurationError("AdmissionConfiguration has no plugins; expected a PodSecurity plugin")
        }
        guard let list = plugins.arrayValue else {
            throw ConfigurationError("plugins: expected an array, got \(plugins.kindName)")
        }
        for (index, plugin) in list.enumerated() {
            guard let entry = plugin.objectValue else {
                throw ConfigurationError("plugins[\(index)]: expected an object, got \(plugin.kindName)")
            }
            guard try Self.string(entry["name"], at: "plugins[\(index)].name") == "PodSecurity" else { continue }
            guard let configuration = entry["configuration"], !configuration.isNull else {
                if entry["path"] != nil {
                    throw ConfigurationError("plugins[\(index)].path: a PodSecurity configuration by path is not supported; embed it in plugins[\(index)].configuration")
                }
                throw ConfigurationError("plugins[\(index)].configuration: required for the PodSecurity plugin")
            }
            do throws(ConfigurationError) {
                try self.init(decoding: configuration)
            } catch {
                throw ConfigurationError("plugins[\(index)].configuration: \(error.message)", fieldErrors: error.fieldErrors)
            }
            return
        }
        throw ConfigurationError("AdmissionConfiguration has no PodSecurity plugin")
    }

    private init(podSecurityConfiguration object: JSONObject) throws(ConfigurationError) {
        var defaultsObject = JSONObject()
        if let value = object["defaults"], !value.isNull {
            guard let defaults = value.objectValue else {
                throw ConfigurationError("defaults: expected an object, got \(value.kindName)")
            }
            defaultsObject = defaults
        }
        func field(_ name: String) throws(ConfigurationError) -> String {
            let text = try Self.string(defaultsObject[name], at: "defaults.\(name)") ?? ""
            return text
        }
        let enforce = try field("enforce"), enforceVersion = try field("enforce-version")
        let warn = try field("warn"), warnVersion = try field("warn-version")
        let audit = try field("audit"), auditVersion = try field("audit-version")

        var exemptionsObject = JSONObject()
        if let value = object["exemptions"], !value.isNull {
            guard let exemptions = value.objectValue else {
                throw ConfigurationError("exemptions: expected an object, got \(value.kindName)")
            }
            exemptionsObject = exemptions
        }
        let usernames = try Self.strings(exemptionsObject["usernames"], at: "exemptions.usernames")
        let namespaces = try Self.strings(exemptionsObject["namespaces"], at: "exemptions.namespaces")
        let runtimeClasses = try Self.strings(exemptionsObject["runtimeClasses"], at: "exemptions.runtimeClasses")

        // Validation, in PSA's order (admission/api/validation).
        var errors: [FieldError] = []
        func level(_ text: String, _ path: String) -> Level {
            if text.isEmpty { return .privileged }
            if let level = Level(parsing: text) { return level }
            errors.append(FieldError(kind: .invalid, field: path, badValue: text, detail: "must be one of privileged, baseline, restricted"))
            return .restricted
        }
        func version(_ text: String, _ path: String) -> Version {
            if text.isEmpty { return .latest }
            if let version = Version(parsing: text) { return version }
            errors.append(FieldError(kind: .invalid, field: path, badValue: text, detail: "must be \"latest\" or \"v1.x\""))
            return .latest
        }
        let enforceLV = LevelVersion(level: level(enforce, "defaults.enforce"), version: version(enforceVersion, "defaults.enforce-version"))
        let warnLV = LevelVersion(level: level(warn, "defaults.warn"), version: version(warnVersion, "defaults.warn-version"))
        let auditLV = LevelVersion(level: level(audit, "defaults.audit"), version: version(auditVersion, "defaults.audit-version"))

        // Each exemption list: every entry valid (`problems` lists what is wrong with one), none twice.
        func checkExemptions(_ entries: [String], _ field: String, _ problems: (String) -> [String]) {
            var seen = Set<String>()
            for (index, entry) in entries.enumerated() {
                let path = "exemptions.\(field)[\(index)]"
                let found = problems(entry)
                if !found.isEmpty {
                    errors.append(FieldError(kind: .invalid, field: path, badValue: entry, detail: found.joined(separator: ", ")))
                } else if !seen.insert(entry).inserted {
                    errors.append(FieldError(kind: .duplicate, field: path, badValue: entry, detail: ""))
                }
            }
        }
        checkExemptions(namespaces, "namespaces", dnsLabelErrors)
        checkExemptions(runtimeClasses, "runtimeClasses", dnsSubdomainErrors)
        checkExemptions(usernames, "usernames") { $0.isEmpty ? ["username must not be empty"] : [] }
        if !errors.isEmpty {
            throw ConfigurationError(aggregateDescription(errors), fieldErrors: errors)
        }
        self.defaults = NamespacePolicy(enforce: enforceLV, audit: auditLV, warn: warnLV)
        self.exemptions = Exemptions(usernames: usernames, namespaces: namespaces, runtimeClasses: runtimeClasses)
    }

    private static func string(_ value: JSONValue?, at path: String) throws(ConfigurationError) -> String? {
        guard let value, !value.isNull else { return nil }
        guard let text = value.stringValue else {
            throw ConfigurationError("\(path): expected a string, got \(value.kindName)")
        }
        return text
    }

    private static func strings(_ value: JSONValue?, at path: String) throws(ConfigurationError) -> [String] {
        guard let value, !value.isNull else { return [] }
        guard let array = value.arrayValue else {
            throw ConfigurationError("\(path): expected an array of strings, got \(value.kindName)")
        }
        var result: [String] = []
        for (index, element) in array.enumerated() {
            guard let text = element.stringValue else {
                throw ConfigurationError("\(path)[\(index)]: expected a string, got \(element.kindName)")
            }
            result.append(text)
        }
        return result
    }
}

/// A configuration that cannot be used: the field and what is wrong with it.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, naming the field (for validation errors, Kubernetes' aggregate of the field errors).
    public var message: String
    /// The validation errors, when the document decoded but failed validation.
    public var fieldErrors: [FieldError]

    public init(_ message: String, fieldErrors: [FieldError] = []) {
        self.message = message
        self.fieldErrors = fieldErrors
    }

    public var description: String { "invalid PodSecurity configuration: \(message)" }
}

// MARK: - Kubernetes name validation (apimachinery's IsDNS1123Label / IsDNS1123Subdomain)

private func isAlphanumeric(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
}

private func matchesDNSLabel(_ bytes: ArraySlice<UInt8>) -> Bool {
    guard let first = bytes.first, let last = bytes.last, isAlphanumeric(first), isAlphanumeric(last) else { return false }
    return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
}

func dnsLabelErrors(_ value: String) -> [String] {
    var errors: [String] = []
    let bytes = Array(value.utf8)
    if bytes.count > 63 { errors.append("must be no more than 63 characters") }
    if !matchesDNSLabel(bytes[...]) {
        errors.append("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
    }
    return errors
}

func dnsSubdomainErrors(_ value: String) -> [String] {
    var errors: [String] = []
    let bytes = Array(value.utf8)
    if bytes.count > 253 { errors.append("must be no more than 253 characters") }
    let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    if bytes.isEmpty || !parts.allSatisfy({ matchesDNSLabel($0) }) {
        errors.append("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
    }
    return errors
}
