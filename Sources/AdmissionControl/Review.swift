import PodSecurity
import StrictJSON

/// The fields of an `AdmissionReview` request that Pod Security Admission reads.
struct ReviewRequest {
    /// The review's apiVersion, to answer in (`admission.k8s.io/v1` when it gives none).
    var apiVersion = ""
    var uid = ""
    /// `request.kind.group` and `.version`, where they are (checked to be strings): made into strings only when
    /// asked (for an Invalid answer or an error message), which few reviews are.
    var kindGroupValue: JSONDocument.Index?
    var kindVersionValue: JSONDocument.Index?
    var kind = ""
    var resourceGroup = ""
    var resource = ""
    /// PSA reads `requestSubResource`; `subResource` stands in when a hand-written review omits it.
    var subresource = ""
    var name = ""
    var namespace = ""
    var operation = ""
    var userName = ""
    /// The parsed review; `object` and `oldObject` are positions in it.
    var document: JSONDocument
    /// nil when absent or null (Go's empty RawExtension).
    var object: JSONDocument.Index?
    var oldObject: JSONDocument.Index?

    var kindGroup: String { kindGroupValue.map { document.string($0) } ?? "" }
    var kindVersion: String { kindVersionValue.map { document.string($0) } ?? "" }

    /// `object` as a tree, for the paths that read it as one (namespaces, pod updates).
    var objectValue: JSONValue? { object.map { document.value(at: $0) } }
    var oldObjectValue: JSONValue? { oldObject.map { document.value(at: $0) } }
}

/// Why a body is not a usable review: the message of the 400 answer.
struct BadReview: Error {
    var message: String
}

enum ReviewDecoder {
    /// Parts of a review no PSA decision reads: they are validated like the rest of the body but not built,
    /// which on real pods (managedFields, env, status) is most of the allocation work. Only object- and
    /// array-valued members are dropped, so a label or annotation of the same name is kept. Everything a
    /// check, the policy resolution, the exemptions or the significant-update rule reads is outside this list.
    static let parseLimits: JSONParser.Limits = {
        var limits = JSONParser.Limits()
        limits.droppedContainerMembers = JSONParser.DroppedMembers([
            "managedFields", "ownerReferences", "finalizers", "status", "options", "extra", "groups",
            "env", "envFrom", "resources", "volumeMounts", "volumeDevices", "args", "command", "resizePolicy",
            "tolerations", "affinity", "topologySpreadConstraints", "nodeSelector", "selector", "readinessGates",
            "dnsConfig", "hostAliases", "imagePullSecrets", "resourceClaims", "schedulingGates", "overhead",
            // inside volume sources and probes: only the source's presence and the probes' hosts matter
            "sources", "items", "exec", "grpc", "httpHeaders", "volumeClaimTemplate", "fieldRef", "resourceFieldRef",
        ])
        return limits
    }()

    /// Parses the body into the request.
    static func decode(_ body: [UInt8]) throws(BadReview) -> ReviewRequest {
        let document: JSONDocument
        do {
            // The one global `decode` reads (names are matched by switches in code), read once per review.
            document = try JSONDocument(parsing: body, limits: parseLimits)
        } catch {
            throw BadReview(message: "unable to decode the request: \(error.description)")
        }
        let review = document.root
        guard document.kind(review) == .object else {
            throw BadReview(message: "unable to decode the request: expected an AdmissionReview object, got \(document.kind(review).name)")
        }
        @inline(__always)
        func string(_ value: JSONDocument.Index?, _ path: String) throws(BadReview) -> String? {
            guard let value = try stringValue(value, path) else { return nil }
            // The values nearly every review carries are answered as literals: nothing built, allocated or released.
            if let known = document.withView({ $0.withUTF8(value, KnownValue.matching) }) { return known.text }
            // Past the known values, mostly the core group's "" (`request.resource.group`): no string to build.
            if document.string(value, equals: "") { return "" }
            return document.string(value)
        }
        /// As `string`, for the values that are the request's own (uid, names, user): rarely a known value, so
        /// not looked up as one.
        @inline(__always)
        func ownString(_ value: JSONDocument.Index?, _ path: String) throws(BadReview) -> String? {
            guard let value = try stringValue(value, path) else { return nil }
            return document.string(value)
        }
        // The type checks of every field are compiled in where the field is read (a call each cost about as much
        // as the check); the error, which few reviews meet, is made out of line.
        /// `value` when it is a string, nil when absent or null; read later, if at all.
        @inline(__always)
        func stringValue(_ value: JSONDocument.Index?, _ path: String) throws(BadReview) -> JSONDocument.Index? {
            guard let value, document.kind(value) != .null else { return nil }
            guard document.kind(value) == .string else { throw wrongType(path, expected: "a string", value) }
            return value
        }
        @inline(__always)
        func object(_ value: JSONDocument.Index?, _ path: String) throws(BadReview) -> JSONDocument.Index? {
            guard let value, document.kind(value) != .null else { return nil }
            guard document.kind(value) == .object else { throw wrongType(path, expected: "an object", value) }
            return value
        }
        @inline(never)
        func wrongType(_ path: String, expected: String, _ value: JSONDocument.Index) -> BadReview {
            BadReview(message: "unable to decode the request: \(path): expected \(expected), got \(document.kind(value).name)")
        }
        /// The members of `object` (an object) that `Field` names, found in one pass (the last of a name wins, as
        /// for `JSONDocument.member`), then read in a fixed order: the first error reported does not depend on the
        /// order of the keys.
        @inline(__always)
        func findFields<Field: ReviewFieldName>(of object: JSONDocument.Index, _: Field.Type) -> ReviewFields<Field> {
            document.withView { view in
                var fields = ReviewFields<Field>()
                for member in view.members(of: object) {
                    if let field = view.withUTF8(member.key, Field.matching) { fields[field] = member.value }
                }
                return fields
            }
        }

        // Go's decoder defaults a missing apiVersion/kind to admission.k8s.io/v1 AdmissionReview.
        let top = findFields(of: review, ReviewField.self)
        let apiVersion = try string(top[.apiVersion], "apiVersion") ?? ""
        let effectiveVersion = apiVersion.isEmpty ? "admission.k8s.io/v1" : apiVersion
        let effectiveKind = try string(top[.kind], "kind") ?? ""
        // Compared with the two literals rather than hashed into a set: a known version is one of them already.
        guard effectiveVersion == "admission.k8s.io/v1" || effectiveVersion == "admission.k8s.io/v1beta1",
              effectiveKind.isEmpty || effectiveKind == "AdmissionReview" else {
            let (group, version) = splitAPIVersion(effectiveVersion)
            throw BadReview(message: "unexpected AdmissionReview kind: \(group)/\(version), Kind=\(effectiveKind.isEmpty ? "AdmissionReview" : effectiveKind)")
        }
        guard let request = top[.request], document.kind(request) != .null else {
            throw BadReview(message: "the AdmissionReview has no request")
        }
        guard document.kind(request) == .object else {
            throw BadReview(message: "unable to decode the request: request: expected an object, got \(document.kind(request).name)")
        }
        let fields = findFields(of: request, RequestField.self)

        // Read into locals and made into the request at the end: filling a `var` request field by field had it
        // copied whole (and the original destroyed) on the way out.
        let uid = try ownString(fields[.uid], "request.uid") ?? ""
        if uid.isEmpty { throw BadReview(message: "the AdmissionReview request has no uid") }
        var kindGroup: JSONDocument.Index?, kindVersion: JSONDocument.Index?, kind = ""
        if let kindObject = try object(fields[.kind], "request.kind") {
            let members = findFields(of: kindObject, NestedField.self)
            kindGroup = try stringValue(members[.group], "request.kind.group")
            kindVersion = try stringValue(members[.version], "request.kind.version")
            kind = try string(members[.kind], "request.kind.kind") ?? ""
        }
        var resourceGroup = "", resource = ""
        if let resourceObject = try object(fields[.resource], "request.resource") {
            let members = findFields(of: resourceObject, NestedField.self)
            resourceGroup = try string(members[.group], "request.resource.group") ?? ""
            _ = try stringValue(members[.version], "request.resource.version")  // read by no decision, but checked
            resource = try string(members[.resource], "request.resource.resource") ?? ""
        }
        let subResource = try string(fields[.subResource], "request.subResource")
        let requestSubResource = try string(fields[.requestSubResource], "request.requestSubResource")
        let name = try ownString(fields[.name], "request.name") ?? ""
        let namespace = try ownString(fields[.namespace], "request.namespace") ?? ""
        let operation = try string(fields[.operation], "request.operation") ?? ""
        var userName = ""
        if let userInfo = try object(fields[.userInfo], "request.userInfo") {
            userName = try ownString(findFields(of: userInfo, NestedField.self)[.username], "request.userInfo.username") ?? ""
        }
        var object: JSONDocument.Index?, oldObject: JSONDocument.Index?
        if let value = fields[.object], document.kind(value) != .null { object = value }
        if let value = fields[.oldObject], document.kind(value) != .null { oldObject = value }
        return ReviewRequest(
            apiVersion: effectiveVersion, uid: uid, kindGroupValue: kindGroup, kindVersionValue: kindVersion, kind: kind,
            resourceGroup: resourceGroup, resource: resource,
            subresource: requestSubResource ?? subResource ?? "", name: name, namespace: namespace, operation: operation,
            userName: userName, document: document, object: object, oldObject: oldObject)
    }
}

/// A set of member names the decoder reads from one object, each case spelled as its JSON key.
protocol ReviewFieldName: RawRepresentable<Int>, CaseIterable {
    /// The field a key's bytes (escapes decoded) name, nil for any other key: a switch on the length, then the
    /// name of that length compared, where a name table's hash lookup cost ~100 instructions a key (the tests
    /// check each case's spelling).
    static func matching(_ key: UnsafeBufferPointer<UInt8>) -> Self?
}

/// The review's own members that are read.
enum ReviewField: Int, ReviewFieldName {
    case apiVersion, kind, request

    @inline(__always)
    static func matching(_ key: UnsafeBufferPointer<UInt8>) -> ReviewField? {
        switch key.count {
        case 4: return key.isName("kind") ? .kind : nil
        case 7: return key.isName("request") ? .request : nil
        case 10: return key.isName("apiVersion") ? .apiVersion : nil
        default: return nil
        }
    }
}

/// The request members a decision reads.
enum RequestField: Int, ReviewFieldName {
    case uid, kind, resource, subResource, requestSubResource, name, namespace, operation, userInfo, object, oldObject

    @inline(__always)
    static func matching(_ key: UnsafeBufferPointer<UInt8>) -> RequestField? {
        switch key.count {
        case 3: return key.isName("uid") ? .uid : nil
        case 4:
            if key.isName("kind") { return .kind }
            if key.isName("name") { return .name }
            return nil
        case 6: return key.isName("object") ? .object : nil
        case 8:
            if key.isName("resource") { return .resource }
            if key.isName("userInfo") { return .userInfo }
            return nil
        case 9:
            if key.isName("namespace") { return .namespace }
            if key.isName("operation") { return .operation }
            if key.isName("oldObject") { return .oldObject }
            return nil
        case 11: return key.isName("subResource") ? .subResource : nil
        case 18: return key.isName("requestSubResource") ? .requestSubResource : nil
        default: return nil
        }
    }
}

/// The members read from the request's `kind` (group, version, kind), `resource` (group, version, resource) and
/// `userInfo` (username).
enum NestedField: Int, ReviewFieldName {
    case group, version, kind, resource, username

    @inline(__always)
    static func matching(_ key: UnsafeBufferPointer<UInt8>) -> NestedField? {
        switch key.count {
        case 4: return key.isName("kind") ? .kind : nil
        case 5: return key.isName("group") ? .group : nil
        case 7: return key.isName("version") ? .version : nil
        case 8:
            if key.isName("resource") { return .resource }
            if key.isName("username") { return .username }
            return nil
        default: return nil
        }
    }
}

/// Where each field of `Field` is in the review (nil: absent). Inline storage, room for the request's eleven:
/// reading a review allocates nothing for it.
struct ReviewFields<Field: ReviewFieldName> {
    private var values: (JSONDocument.Index?, JSONDocument.Index?, JSONDocument.Index?, JSONDocument.Index?,
                         JSONDocument.Index?, JSONDocument.Index?, JSONDocument.Index?, JSONDocument.Index?,
                         JSONDocument.Index?, JSONDocument.Index?, JSONDocument.Index?)
        = (nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)

    subscript(field: Field) -> JSONDocument.Index? {
        get { self[field.rawValue] }
        set { self[field.rawValue] = newValue }
    }

    subscript(ordinal: Int) -> JSONDocument.Index? {
        get {
            switch ordinal {
            case 0: values.0
            case 1: values.1
            case 2: values.2
            case 3: values.3
            case 4: values.4
            case 5: values.5
            case 6: values.6
            case 7: values.7
            case 8: values.8
            case 9: values.9
            default: values.10
            }
        }
        set {
            switch ordinal {
            case 0: values.0 = newValue
            case 1: values.1 = newValue
            case 2: values.2 = newValue
            case 3: values.3 = newValue
            case 4: values.4 = newValue
            case 5: values.5 = newValue
            case 6: values.6 = newValue
            case 7: values.7 = newValue
            case 8: values.8 = newValue
            case 9: values.9 = newValue
            default: values.10 = newValue
            }
        }
    }
}

/// String values nearly every review carries. Read as these literals (immortal: nothing to allocate, retain or
/// release), where building them from the bytes cost ~200 instructions each. Any string equal to one is the same
/// `String`, so which field holds it does not matter.
enum KnownValue: Int, CaseIterable {
    case admissionV1, admissionV1beta1, admissionReview, v1, pod, pods, create, update, apps, batch, deployment,
         deployments, namespace, namespaces

    @inline(__always)
    var text: String {
        switch self {
        case .admissionV1: "admission.k8s.io/v1"
        case .admissionV1beta1: "admission.k8s.io/v1beta1"
        case .admissionReview: "AdmissionReview"
        case .v1: "v1"
        case .pod: "Pod"
        case .pods: "pods"
        case .create: "CREATE"
        case .update: "UPDATE"
        case .apps: "apps"
        case .batch: "batch"
        case .deployment: "Deployment"
        case .deployments: "deployments"
        case .namespace: "Namespace"
        case .namespaces: "namespaces"
        }
    }

    /// The value a string's bytes (escapes decoded) are, nil for any other: as `ReviewFieldName.matching` (the
    /// tests check every case's `text`).
    @inline(__always)
    static func matching(_ key: UnsafeBufferPointer<UInt8>) -> KnownValue? {
        switch key.count {
        case 2: return key.isName("v1") ? .v1 : nil
        case 3: return key.isName("Pod") ? .pod : nil
        case 4:
            if key.isName("pods") { return .pods }
            if key.isName("apps") { return .apps }
            return nil
        case 5: return key.isName("batch") ? .batch : nil
        case 6:
            if key.isName("CREATE") { return .create }
            if key.isName("UPDATE") { return .update }
            return nil
        case 9: return key.isName("Namespace") ? .namespace : nil
        case 10:
            if key.isName("Deployment") { return .deployment }
            if key.isName("namespaces") { return .namespaces }
            return nil
        case 11: return key.isName("deployments") ? .deployments : nil
        case 15: return key.isName("AdmissionReview") ? .admissionReview : nil
        case 19: return key.isName("admission.k8s.io/v1") ? .admissionV1 : nil
        case 24: return key.isName("admission.k8s.io/v1beta1") ? .admissionV1beta1 : nil
        default: return nil
        }
    }
}

/// `group/version` → (group, version); a core `v1` has an empty group.
func splitAPIVersion(_ apiVersion: String) -> (group: String, version: String) {
    guard let slash = apiVersion.lastIndex(of: "/") else { return ("", apiVersion) }
    return (String(apiVersion[..<slash]), String(apiVersion[apiVersion.index(after: slash)...]))
}

/// A refusal's `metav1.Status`: `{"metadata":{},"status":"Failure","message":…,"reason":…,"details":…,"code":…}`.
/// Kept as fields and written straight to bytes (the denial path writes one per request).
struct ReviewStatus {
    var message: String
    var reason: String
    var code: Int
    var details: Details?

    /// `metav1.StatusDetails`; empty fields are omitted, as Go's `omitempty` omits them.
    struct Details {
        var name = ""
        var group = ""
        var kind = ""
        var causes: [Cause] = []
    }

    /// `metav1.StatusCause`; a nil field is not written.
    struct Cause {
        var reason: String?
        var message: String
        var field: String?
    }

    /// Appends the status as JSON, fields in Go's order. Returns where in `output` the message is, quoted, and
    /// where in that the quoted form of its last `sharedSuffix` bytes begins (see `AuditAnnotations`).
    @discardableResult
    func write(to output: inout [UInt8], sharedSuffix: Int = 0) -> (message: Range<Int>, suffixStart: Int) {
        append(#"{"metadata":{},"status":"Failure","message":"#, to: &output)
        let messageStart = output.count
        let suffixStart = JSONWriter.appendQuoted(message, to: &output, suffixCount: sharedSuffix)
        let quotedMessage = messageStart..<output.count
        // A denial's reason and, below, a pod's kind are one of a few literals: written as literals (a small
        // string compares by its bits), not each escaped through `appendQuoted`.
        if reason == "Forbidden" {
            append(#","reason":"Forbidden""#, to: &output)
        } else {
            append(#","reason":"#, to: &output)
            JSONWriter.appendQuoted(reason, to: &output)
        }
        if let details {
            append(#","details":{"#, to: &output)
            // The comma goes with each key after the first: one literal per member.
            var first = true
            func member(_ key: StaticString, _ afterFirst: StaticString, _ value: String) {
                append(first ? key : afterFirst, to: &output)
                first = false
                JSONWriter.appendQuoted(value, to: &output)
            }
            if !details.name.isEmpty { member(#""name":"#, #","name":"#, details.name) }
            if !details.group.isEmpty { member(#""group":"#, #","group":"#, details.group) }
            if details.kind == "pods" {
                append(first ? #""kind":"pods""# : #","kind":"pods""#, to: &output)
                first = false
            } else if !details.kind.isEmpty {
                member(#""kind":"#, #","kind":"#, details.kind)
            }
            if !details.causes.isEmpty {
                append(first ? #""causes":["# : #","causes":["#, to: &output)
                for (index, cause) in details.causes.enumerated() {
                    if index > 0 { output.append(UInt8(ascii: ",")) }
                    output.append(UInt8(ascii: "{"))
                    first = true
                    if let reason = cause.reason { member(#""reason":"#, #","reason":"#, reason) }
                    member(#""message":"#, #","message":"#, cause.message)
                    if let field = cause.field { member(#""field":"#, #","field":"#, field) }
                    output.append(UInt8(ascii: "}"))
                }
                output.append(UInt8(ascii: "]"))
            }
            output.append(UInt8(ascii: "}"))
        }
        switch code {
        case 403: append(#","code":403}"#, to: &output)
        case 400: append(#","code":400}"#, to: &output)
        default:
            append(#","code":"#, to: &output)
            output.append(contentsOf: String(code).utf8)
            output.append(UInt8(ascii: "}"))
        }
        return (quotedMessage, suffixStart)
    }

    /// The same status as a JSON tree (tests compare it with the bytes `write` produces).
    var tree: JSONValue {
        var status = JSONObject([
            "metadata": .object(JSONObject()),
            "status": .string("Failure"),
            "message": .string(message),
            "reason": .string(reason),
        ])
        if let details {
            var object = JSONObject()
            if !details.name.isEmpty { object["name"] = .string(details.name) }
            if !details.group.isEmpty { object["group"] = .string(details.group) }
            if !details.kind.isEmpty { object["kind"] = .string(details.kind) }
            if !details.causes.isEmpty {
                object["causes"] = .array(details.causes.map { cause in
                    var member = JSONObject()
                    if let reason = cause.reason { member["reason"] = .string(reason) }
                    member["message"] = .string(cause.message)
                    if let field = cause.field { member["field"] = .string(field) }
                    return .object(member)
                })
            }
            status.members.append(.init(key: "details", value: .object(object)))
        }
        status.members.append(.init(key: "code", value: .number(JSONNumber(code))))
        return .object(status)
    }
}

/// The audit annotations PSA sets (`PodSecurityAnnotations`), each a field: no dictionary to make, hash into
/// and sort on every request.
struct AuditAnnotations {
    var enforcePolicy: String?
    var error: String?
    var exempt: String?
    /// `audit-violations`; or, when `auditViolationsSharedCount` is not 0, the status message whose end it repeats.
    /// Read and set as `auditViolations`.
    var auditViolationsValue: String?
    /// Not 0 when `audit-violations` is `would violate` followed by the status message's last this-many bytes
    /// (audit at the enforce policy: `would violate PodSecurity …` against `… forbidden: violates PodSecurity …`).
    /// It is then not written as a string of its own (hundreds of bytes): the body copies the message's end,
    /// escaped, after the verb. (Two plain fields and the memberwise initializer: a tuple of strings, or an
    /// initializer of its own, had every review's empty annotations copied and destroyed once more.)
    var auditViolationsSharedCount = 0
    /// PSA's verb for audit and warn messages, in one place: the controller writes them with it, and the body
    /// writes it before the status message's shared end.
    static let auditVerb: StaticString = "would violate"

    var auditViolations: String? {
        get { auditViolationsSharedCount == 0 ? auditViolationsValue : sharedAuditViolations() }
        set {
            auditViolationsValue = newValue
            auditViolationsSharedCount = 0
        }
    }

    /// `audit-violations` written out from the status message (tests and a reader of the annotation only).
    @inline(never)
    private func sharedAuditViolations() -> String? {
        guard let statusMessage = auditViolationsValue else { return nil }
        let verb = Self.auditVerb.description
        return String(capacity: verb.utf8.count + auditViolationsSharedCount) { text in
            text.write(verb)
            text.write(statusMessage, lastBytes: auditViolationsSharedCount)
        }
    }

    var isEmpty: Bool { auditViolationsValue == nil && enforcePolicy == nil && error == nil && exempt == nil }

    /// The annotations that are set, sorted by key as Go encodes a map.
    var sorted: [(key: String, value: String)] {
        [(PodSecurityAnnotations.auditViolations, auditViolations), (PodSecurityAnnotations.enforcePolicy, enforcePolicy),
         (PodSecurityAnnotations.error, error), (PodSecurityAnnotations.exempt, exempt)]
            .compactMap { key, value in value.map { (key, $0) } }
    }
}

/// An admission response, before it is written in the review's version.
struct ReviewResponse {
    var allowed: Bool
    /// The refusal's status; nil when allowed.
    var failure: ReviewStatus? = nil
    var auditAnnotations = AuditAnnotations()
    var warnings: [String] = []

    /// Made afresh at each use: a stored constant was copied out of its global (a retain for each field).
    static var allowed: ReviewResponse { ReviewResponse(allowed: true) }

    /// The status as a JSON tree, nil when allowed.
    var status: JSONValue? { failure?.tree }
    /// The status code in the status (0 when allowed).
    var code: Int { failure?.code ?? 0 }

    static func exempt(_ reason: String) -> ReviewResponse {
        ReviewResponse(allowed: true, auditAnnotations: AuditAnnotations(exempt: reason))
    }

    /// `{"metadata":{},"status":"Failure","message":…,"reason":…,"details":…,"code":…}`, as metav1.Status encodes.
    static func failure(message: String, reason: String, code: Int, details: ReviewStatus.Details? = nil) -> ReviewResponse {
        ReviewResponse(allowed: false, failure: ReviewStatus(message: message, reason: reason, code: code, details: details))
    }

    /// apimachinery's `errorResponse`: the status plus an `error` audit annotation with the cause.
    static func error(_ status: ReviewResponse, cause: String?) -> ReviewResponse {
        var response = status
        let message = status.failure?.message ?? ""
        response.auditAnnotations.error = cause.map { "\(message): \($0)" } ?? message
        return response
    }

    static func badRequest(_ message: String) -> ReviewResponse {
        failure(message: message, reason: "BadRequest", code: 400)
    }

    /// `apierrors.NewInternalError(err)`.
    static func internalError(_ error: String) -> ReviewResponse {
        let details = ReviewStatus.Details(causes: [ReviewStatus.Cause(message: error)])
        return failure(message: "Internal error occurred: \(error)", reason: "InternalError", code: 500, details: details)
    }

    /// `apierrors.NewForbidden(groupResource, name, err)`.
    static func forbidden(group: String, resource: String, name: String, error: some WritableText) -> ReviewResponse {
        ReviewResponse(allowed: false, failure: forbiddenStatus(group: group, resource: resource, name: name, error: error))
    }

    /// The status of `forbidden(group:resource:name:error:)`, for a response that already holds annotations.
    static func forbiddenStatus(group: String, resource: String, name: String, error: some WritableText) -> ReviewStatus {
        // `<resource>[.<group>] ["name"] is forbidden: <error>`, in one string allocated once, the error written
        // straight into it (it runs to hundreds of bytes).
        let quotedName = name.isEmpty ? nil : GoQuotedText(name)
        let length = resource.utf8.count + group.utf8.count + (quotedName?.utf8Count ?? 0) + error.utf8Count + 17
        let message = String(capacity: length) { text in
            text.write(resource)
            if !group.isEmpty {
                text.write(literal: ".")
                text.write(group)
            }
            if text.count > 0 {
                if let quotedName {
                    text.write(literal: " ")
                    quotedName.write(to: &text)
                }
                text.write(literal: " is ")
            }
            text.write(literal: "forbidden: ")
            error.write(to: &text)
        }
        let details = ReviewStatus.Details(name: name, group: group, kind: resource)
        return ReviewStatus(message: message, reason: "Forbidden", code: 403, details: details)
    }

    /// `apierrors.NewInvalid(groupKind, name, fieldErrors)`.
    static func invalid(group: String, kind: String, name: String, errors: [FieldError]) -> ReviewResponse {
        let qualified = group.isEmpty ? kind : "\(kind).\(group)"
        let causes = errors.map { ReviewStatus.Cause(reason: $0.kind.causeType, message: $0.body, field: $0.field) }
        let details = ReviewStatus.Details(name: name, group: group, kind: kind, causes: causes)
        let message = errors.isEmpty
            ? "\(qualified) \(goQuoted(name)) is invalid"
            : "\(qualified) \(goQuoted(name)) is invalid: \(aggregateDescription(errors))"
        return failure(message: message, reason: "Invalid", code: 422, details: details)
    }

    /// The `AdmissionReview` answer, fields in Go's order (uid, allowed, status, auditAnnotations, warnings);
    /// annotation keys sorted as Go encodes maps. Written straight to bytes: the same bytes as building the
    /// review as a `JSONValue` and serializing it, without the tree. Also where in it the status message is,
    /// quoted (nil when allowed): the request log repeats it from there.
    func review(apiVersion: String, uid: String) -> (body: [UInt8], quotedMessage: Range<Int>?) {
        var output: [UInt8] = []
        // A denial carries its reasons twice (the message and, usually, the audit annotation) and its quotes
        // escaped: room for three times the message, so that the answer is not regrown and copied on the way.
        output.reserveCapacity(256 + 3 * (failure?.message.utf8.count ?? 0))
        // The head with one of the two versions a review names (the decoder's own literals, so `==` finds them by
        // their identical bits) is one literal: no pieces appended one by one, no version to escape.
        if apiVersion == "admission.k8s.io/v1" {
            append(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"#, to: &output)
        } else if apiVersion == "admission.k8s.io/v1beta1" {
            append(#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","response":{"uid":"#, to: &output)
        } else {
            append(#"{"apiVersion":"#, to: &output)
            JSONWriter.appendQuoted(apiVersion, to: &output)
            append(#","kind":"AdmissionReview","response":{"uid":"#, to: &output)
        }
        JSONWriter.appendQuoted(uid, to: &output)
        if allowed {
            append(#","allowed":true"#, to: &output)
        } else {
            append(#","allowed":false"#, to: &output)
        }
        var message: (message: Range<Int>, suffixStart: Int)?
        if let failure {
            append(#","status":"#, to: &output)
            message = failure.write(to: &output, sharedSuffix: auditAnnotations.auditViolationsSharedCount)
        }
        if !auditAnnotations.isEmpty {
            append(#","auditAnnotations":{"#, to: &output)
            // In key order, as Go writes a map (`AuditAnnotations.sorted`); the keys need no escaping. The comma
            // goes with each key after the first: one literal per annotation.
            var first = true
            if auditAnnotations.auditViolationsSharedCount > 0, let message {
                // The verb (plain), then the status message's end as the status has it, escaped.
                append(#""audit-violations":""#, to: &output)
                append(AuditAnnotations.auditVerb, to: &output)
                appendCopy(of: message.suffixStart..<message.message.upperBound, to: &output)
                first = false
            } else if let value = auditAnnotations.auditViolations {
                append(#""audit-violations":"#, to: &output)
                JSONWriter.appendQuoted(value, to: &output)
                first = false
            }
            if let value = auditAnnotations.enforcePolicy {
                if first { append(#""enforce-policy":"#, to: &output) } else { append(#","enforce-policy":"#, to: &output) }
                JSONWriter.appendQuoted(value, to: &output)
                first = false
            }
            if let value = auditAnnotations.error {
                if first { append(#""error":"#, to: &output) } else { append(#","error":"#, to: &output) }
                JSONWriter.appendQuoted(value, to: &output)
                first = false
            }
            if let value = auditAnnotations.exempt {
                if first { append(#""exempt":"#, to: &output) } else { append(#","exempt":"#, to: &output) }
                JSONWriter.appendQuoted(value, to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
        if !warnings.isEmpty {
            append(#","warnings":["#, to: &output)
            for (index, warning) in warnings.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                JSONWriter.appendQuoted(warning, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        }
        append("}}", to: &output)
        return (output, message?.message)
    }
}

/// Appends a literal's bytes, copied straight into the array's spare capacity: fewer instructions than
/// appending its `String.UTF8View` or a buffer of its bytes.
@inline(__always)
func append(_ literal: StaticString, to output: inout [UInt8]) {
    let count = literal.utf8CodeUnitCount
    guard count > 0 else { return }
    output.append(addingCapacity: count) { span in
        span.withUnsafeMutableBufferPointer { buffer, initialized in
            UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: literal.utf8Start, byteCount: count)
            initialized = count
        }
    }
}

/// Appends a copy of `output[range]` (through a temporary: appending a slice of the array to itself would
/// copy the whole array first, the slice sharing its storage).
func appendCopy(of range: Range<Int>, to output: inout [UInt8]) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: range.count) { copy in
        _ = output.withUnsafeBufferPointer { copy.initialize(fromContentsOf: $0[range]) }
        output.append(contentsOf: UnsafeBufferPointer(copy))
    }
}
