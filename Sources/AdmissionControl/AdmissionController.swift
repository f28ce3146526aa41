import PodSecurity
import StrictJSON

/// Pod Security Admission as a validating webhook: takes an `AdmissionReview`, answers it exactly as PSA's
/// `admission.Admission.Validate` (and the webhook around it) would.
public final class AdmissionController: Sendable {
    public let configuration: AdmissionConfiguration
    let namespaces: any NamespaceLookup
    let podLister: any PodLister
    /// The policy engine; tests may substitute a fake.
    let evaluator: PodEvaluator
    /// The time limit on checking existing pods when a namespace tightens (PSA: 1 s, or half the time left).
    let podCheckTimeout: Duration
    /// The defaults' description, which the log line of every review in an unlabelled namespace carries:
    /// written once here rather than once per review.
    let defaultsDescription: String
    /// The metric event arrays most allowed requests share (see `RequestState.recordEnforceAllowed`).
    let podAllowedEvents = SharedPodEvents(decision: "allow", modes: ["enforce"])
    /// The metric event arrays most denied pods share (see `RequestState.recordEnforceAndAuditDenied`).
    let podDeniedEvents = SharedPodEvents(decision: "deny", modes: ["enforce", "audit"])

    typealias PodEvaluator = @Sendable (_ pod: Pod, _ policy: LevelVersion) -> Evaluation

    /// PSA's `defaultNamespaceMaxPodsToCheck`.
    public static let namespaceMaxPodsToCheck = 3000
    /// PSA's `defaultNamespacePodCheckTimeout`.
    public static let namespacePodCheckTimeout: Duration = .seconds(1)

    public convenience init(configuration: AdmissionConfiguration, namespaces: any NamespaceLookup, pods: any PodLister) {
        self.init(configuration: configuration, namespaces: namespaces, pods: pods) { pod, policy in
            PodSecurityEvaluator.evaluate(pod, at: policy)
        }
    }

    init(configuration: AdmissionConfiguration, namespaces: any NamespaceLookup, pods: any PodLister,
         podCheckTimeout: Duration = AdmissionController.namespacePodCheckTimeout, evaluator: @escaping PodEvaluator) {
        self.podCheckTimeout = podCheckTimeout
        self.configuration = configuration
        self.defaultsDescription = configuration.defaults.description
        self.namespaces = namespaces
        self.podLister = pods
        self.evaluator = evaluator
    }

    /// Answers one review. Never throws: a body that is not a usable review gets HTTP 400 with a `Status`.
    public func handle(reviewBody: [UInt8], deadline: ContinuousClock.Instant) -> AdmissionOutcome {
        // With waiting allowed there is always an outcome.
        handle(reviewBody: reviewBody, deadline: deadline, mayWait: true)!
    }

    /// Answers one review if that needs no waiting: no live namespace lookup (the labels are cached, or there
    /// is no cluster) and no pod listing (namespace reviews are never answered here). nil otherwise; then
    /// `handle(reviewBody:deadline:)`, on a thread that may block, gives the answer. Same answers as that.
    public func handleWithoutWaiting(reviewBody: [UInt8], deadline: ContinuousClock.Instant) -> AdmissionOutcome? {
        handle(reviewBody: reviewBody, deadline: deadline, mayWait: false)
    }

    // Inlined into both entry points: returned out of line, the outcome (185 bytes) was copied into the optional
    // and out of it again.
    @inline(__always)
    private func handle(reviewBody: [UInt8], deadline: ContinuousClock.Instant, mayWait: Bool) -> AdmissionOutcome? {
        // A constant until its last use: a `var` request was copied whole (233 bytes) for each call it was passed to.
        let request: ReviewRequest
        do {
            request = try ReviewDecoder.decode(reviewBody)
        } catch {
            let status = JSONObject([
                "kind": .string("Status"),
                "apiVersion": .string("v1"),
                "status": .string("Failure"),
                "message": .string(error.message),
                "reason": .string("BadRequest"),
                "code": .number(JSONNumber(400)),
            ])
            return AdmissionOutcome(
                httpStatus: 400, body: JSONValue.object(status).serialized(),
                log: AdmissionLogRecord(decision: "error", message: error.message), metrics: [])
        }
        let isNamespace = request.resourceGroup.isEmpty && request.resource == "namespaces"
        if isNamespace && !mayWait { return nil } // may list the namespace's pods
        var state = RequestState(request: request)
        state.mayWait = mayWait
        let response: ReviewResponse
        if isNamespace {
            response = validateNamespace(request, &state, deadline: deadline)
        } else if request.resourceGroup.isEmpty && request.resource == "pods" {
            response = validatePod(request, &state, deadline: deadline)
        } else {
            response = validatePodController(request, &state, deadline: deadline)
        }
        if state.neededToWait { return nil }

        // Every part computed first and the outcome made in one expression: a record or an outcome filled in
        // after it was made was copied whole on the way out (and the original destroyed).
        let policy = state.policy.map { $0 == configuration.defaults ? defaultsDescription : $0.description } ?? ""
        let decision: String, message: String
        let (body, quotedStatusMessage) = response.review(apiVersion: request.apiVersion, uid: request.uid)
        var quotedMessage: Range<Int>?
        if response.allowed {
            decision = "allow"
            message = Self.allowedLogMessage(response)
        } else {
            decision = (response.code == 403 || response.code == 422) ? "deny" : "error"
            let status = response.failure?.message ?? ""
            if let detail = state.errorDetail {
                message = "\(status): \(detail)"
            } else {
                message = status
                quotedMessage = quotedStatusMessage
            }
        }
        var finished = consume request
        return AdmissionOutcome(
            httpStatus: 200, body: body, quotedMessage: quotedMessage,
            // The request's strings moved into the record (their last use): not retained here, released with it.
            log: AdmissionLogRecord(
                uid: take(&finished.uid), kind: take(&finished.kind), namespace: take(&finished.namespace),
                name: take(&finished.name), operation: take(&finished.operation), userName: take(&finished.userName),
                decision: decision, policy: policy, message: message),
            metrics: state.metrics)
    }

    /// What an allowed review's log line says besides the decision: exemption, error, audit violations and
    /// warnings, in that order; empty (nothing built) for most reviews, which have none.
    static func allowedLogMessage(_ response: ReviewResponse) -> String {
        let annotations = response.auditAnnotations
        if annotations.exempt == nil && annotations.error == nil && annotations.auditViolationsValue == nil
            && response.warnings.isEmpty {
            return ""
        }
        var notes: [String] = []
        if let exempt = annotations.exempt { notes.append("exempt: \(exempt)") }
        if let error = annotations.error { notes.append("error: \(error)") }
        if let audit = annotations.auditViolations { notes.append("audit: \(audit)") }
        notes.append(contentsOf: response.warnings.map { "warning: \($0)" })
        return notes.joined(separator: "; ")
    }

    // MARK: - Namespaces

    func validateNamespace(_ request: ReviewRequest, _ state: inout RequestState, deadline: ContinuousClock.Instant) -> ReviewResponse {
        if !request.subresource.isEmpty { return .allowed }
        let object: JSONValue, labels: [String: String]
        do {
            (object, labels) = try namespaceInReview(request.objectValue, field: "request.object",
                                                     missing: "failed to decode namespace",
                                                     undecodable: "failed to decode object", &state)
        } catch {
            return error.response
        }
        let namespaceName = object["metadata"]?["name"]?.stringValue ?? ""
        // PSA checks the request's namespace; a review that leaves it empty for a Namespace (a create, say) names it.
        let exemptionName = request.namespace.isEmpty ? request.name : request.namespace
        let (newPolicy, newErrors) = NamespacePolicy.resolve(labels: labels, defaults: configuration.defaults)
        state.policy = newPolicy

        switch request.operation {
        case "CREATE":
            if !newErrors.isEmpty {
                return .invalid(group: request.kindGroup, kind: request.kind, name: request.name, errors: newErrors)
            }
            if isExemptNamespace(exemptionName),
               let warning = exemptNamespaceWarning(namespaceName, policy: newPolicy, labels: labels) {
                var response = ReviewResponse.allowed
                response.warnings.append(warning)
                return response
            }
            return .allowed

        case "UPDATE":
            let oldLabels: [String: String]
            do {
                // The double spaces in these two messages are upstream's, kept so that messages match PSA's.
                oldLabels = try namespaceInReview(request.oldObjectValue, field: "request.oldObject",
                                                  missing: "failed to decode  old namespace",
                                                  undecodable: "failed to decode  old object", &state).labels
            } catch {
                return error.response
            }
            let (oldPolicy, oldErrors) = NamespacePolicy.resolve(labels: oldLabels, defaults: configuration.defaults)
            if !newErrors.isEmpty && (oldErrors.isEmpty || newErrors != oldErrors) {
                return .invalid(group: request.kindGroup, kind: request.kind, name: request.name, errors: newErrors)
            }
            // No dry run when enforce is unchanged, privileged, or relaxed at the same version.
            if newPolicy.enforce == oldPolicy.enforce { return .allowed }
            if newPolicy.enforce.level == .privileged { return .allowed }
            if newPolicy.enforce.version == oldPolicy.enforce.version && newPolicy.enforce.level <= oldPolicy.enforce.level {
                return .allowed
            }
            if isExemptNamespace(exemptionName) {
                if let warning = exemptNamespaceWarning(namespaceName, policy: newPolicy, labels: labels) {
                    var response = ReviewResponse.allowed
                    response.warnings.append(warning)
                    return response
                }
                return .allowed
            }
            var response = ReviewResponse.allowed
            response.warnings = evaluatePodsInNamespace(namespaceName, enforce: newPolicy.enforce, deadline: deadline)
            return response

        default:
            return .allowed
        }
    }

    /// PSA's `exemptNamespaceWarning`: nil for a privileged or default policy; otherwise names the modes the
    /// labels set to something other than privileged.
    func exemptNamespaceWarning(_ namespace: String, policy: NamespacePolicy, labels: [String: String]) -> String? {
        if policy.isFullyPrivileged || policy.isEquivalent(to: configuration.defaults) { return nil }
        var parts: [String] = []
        let modes: [(String, LevelVersion, String, String)] = [
            ("enforce", policy.enforce, PodSecurityLabels.enforce, PodSecurityLabels.enforceVersion),
            ("audit", policy.audit, PodSecurityLabels.audit, PodSecurityLabels.auditVersion),
            ("warn", policy.warn, PodSecurityLabels.warn, PodSecurityLabels.warnVersion),
        ]
        for (mode, levelVersion, levelLabel, versionLabel) in modes
        where levelVersion.level != .privileged && (labels[levelLabel] != nil || labels[versionLabel] != nil) {
            parts.append("\(mode)=\(levelVersion)")
        }
        return "namespace \(goQuoted(namespace)) is exempt from Pod Security, and the policy (\(parts.joined(separator: ", "))) will be ignored"
    }

    /// PSA's `EvaluatePodsInNamespace`: warnings for the existing pods that violate the new enforce level.
    func evaluatePodsInNamespace(_ namespace: String, enforce: LevelVersion, deadline: ContinuousClock.Instant) -> [String] {
        let clock = ContinuousClock()
        let now = clock.now
        var timeout = podCheckTimeout
        let half = (deadline - now) / 2  // never more than half the time left
        if timeout > half { timeout = half }
        let checkDeadline = now + timeout

        let listed: [JSONValue]
        do {
            listed = try podLister.pods(inNamespace: namespace, limit: Self.namespaceMaxPodsToCheck, deadline: checkDeadline)
        } catch {
            return ["failed to list pods while checking new PodSecurity enforce level"]
        }

        // Prioritize: exempt runtime classes dropped, one pod per controller first, the other replicas after.
        var prioritized: [JSONValue] = []
        var replicas: [JSONValue] = []
        var seenControllers = Set<String>()
        for pod in listed {
            if isExemptRuntimeClass(pod["spec"]?["runtimeClassName"]?.stringValue) { continue }
            guard let controller = controllerUID(of: pod) else {
                prioritized.append(pod)
                continue
            }
            if seenControllers.insert(controller).inserted { prioritized.append(pod) } else { replicas.append(pod) }
        }
        prioritized.append(contentsOf: replicas)
        let totalPods = prioritized.count
        if prioritized.count > Self.namespaceMaxPodsToCheck {
            prioritized.removeLast(prioritized.count - Self.namespaceMaxPodsToCheck)
        }

        var checkedPods = prioritized.count
        var distinctReasons: [String] = []
        var counts: [String: (name: String, count: Int)] = [:]
        for (index, object) in prioritized.enumerated() {
            let name = object["metadata"]?["name"]?.stringValue ?? ""
            if let pod = try? Pod(decoding: object) {
                let result = evaluator(pod, enforce)
                if !result.allowed {
                    let reason = result.violations.map(\.reason).joined(separator: ", ")
                    if var entry = counts[reason] {
                        if name < entry.name { entry.name = name }
                        entry.count += 1
                        counts[reason] = entry
                    } else {
                        distinctReasons.append(reason)
                        counts[reason] = (name, 1)
                    }
                }
            }
            if clock.now >= checkDeadline {
                checkedPods = index + 1
                break
            }
        }

        var warnings: [String] = []
        if checkedPods < totalPods {
            warnings.append("new PodSecurity enforce level only checked against the first \(checkedPods) of \(totalPods) existing pods")
        }
        if !distinctReasons.isEmpty {
            warnings.append("existing pods in namespace \(goQuoted(namespace)) violate the new PodSecurity enforce level \(goQuoted(enforce.description))")
        }
        var podWarnings: [String] = distinctReasons.map { reason in
            let entry = counts[reason]!
            switch entry.count {
            case 1: return "\(entry.name): \(reason)"
            case 2: return "\(entry.name) (and 1 other pod): \(reason)"
            default: return "\(entry.name) (and \(entry.count - 1) other pods): \(reason)"
            }
        }
        podWarnings.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return warnings + podWarnings
    }

    /// The uid of the owner reference with `controller: true` (metav1.GetControllerOf).
    private func controllerUID(of pod: JSONValue) -> String? {
        for reference in pod["metadata"]?["ownerReferences"]?.arrayValue ?? [] where reference["controller"]?.boolValue == true {
            return reference["uid"]?.stringValue ?? ""
        }
        return nil
    }

    /// What PSA answers instead when a review's namespace object is missing or cannot be decoded.
    struct NamespaceRefusal: Error {
        var response: ReviewResponse
    }

    /// A namespace object of the review (`field`) and its labels; when it is missing or undecodable, the 400
    /// with PSA's message for that case, its detail noted for the log.
    private func namespaceInReview(_ object: JSONValue?, field: String, missing: String, undecodable: String,
                                   _ state: inout RequestState) throws(NamespaceRefusal) -> (object: JSONValue, labels: [String: String]) {
        guard let object else {
            state.errorDetail = "\(field) is missing"
            throw NamespaceRefusal(response: .error(.badRequest(missing), cause: nil))
        }
        do {
            return (object, try namespaceLabels(object))
        } catch {
            state.errorDetail = error.description
            throw NamespaceRefusal(response: .error(.badRequest(undecodable), cause: error.description))
        }
    }

    private func namespaceLabels(_ object: JSONValue) throws(ObjectDecodeError) -> [String: String] {
        guard let namespace = object.objectValue else {
            throw ObjectDecodeError(path: "", message: "expected a Namespace object, got \(object.kindName)")
        }
        if let kind = namespace["kind"]?.stringValue, kind != "Namespace" {
            throw ObjectDecodeError(path: "kind", message: "expected Namespace, got \(goQuoted(kind))")
        }
        guard let metadata = namespace["metadata"], !metadata.isNull else { return [:] }
        guard let metadataObject = metadata.objectValue else {
            throw ObjectDecodeError(path: "metadata", message: "expected an object, got \(metadata.kindName)")
        }
        return try stringMap(metadataObject["labels"], path: "metadata.labels")
    }

    // MARK: - Pods

    static let ignoredPodSubresources: Set<String> = ["exec", "attach", "binding", "eviction", "log", "portforward", "proxy", "status"]

    func validatePod(_ request: ReviewRequest, _ state: inout RequestState, deadline: ContinuousClock.Instant) -> ReviewResponse {
        // The in-tree plugin only handles CREATE and UPDATE; the webhook is registered for those.
        guard request.operation == "CREATE" || request.operation == "UPDATE" else { return .allowed }
        // Most reviews have no subresource: no need to hash the empty string to find that out.
        if !request.subresource.isEmpty && Self.ignoredPodSubresources.contains(request.subresource) { return .allowed }
        if let exempt = exemption(of: request, &state) { return exempt }
        let labels: [String: String]
        do {
            labels = try lookupLabels(request.namespace, deadline: deadline, &state)
        } catch {
            state.recordError(fatal: true)
            state.errorDetail = "\(error)"
            return .error(.internalError("failed to lookup namespace \(goQuoted(request.namespace))"), cause: "\(error)")
        }
        let (policy, policyErrors) = NamespacePolicy.resolve(labels: labels, defaults: configuration.defaults)
        state.policy = policy
        if policyErrors.isEmpty && policy.isFullyPrivileged {
            state.recordEnforceAllowed(policy.enforce, shared: podAllowedEvents)
            return ReviewResponse(allowed: true, auditAnnotations: AuditAnnotations(enforcePolicy: "privileged:latest"))
        }

        guard let object = request.object else {
            state.recordError(fatal: true)
            state.errorDetail = "request.object is missing"
            return .error(.badRequest("failed to decode pod"), cause: nil)
        }
        let pod: Pod
        do {
            pod = try decodePod(object, in: request.document, request: request)
        } catch {
            return refusal(error, oldObject: false, &state)
        }
        if request.operation == "UPDATE" {
            guard let oldObject = request.oldObject else {
                state.recordError(fatal: true)
                state.errorDetail = "request.oldObject is missing"
                return .error(.badRequest("failed to decode old pod"), cause: nil)
            }
            do {
                _ = try decodePod(oldObject, in: request.document, request: request)
            } catch {
                return refusal(error, oldObject: true, &state)
            }
            if !isSignificantPodUpdate(request.document.value(at: object), request.document.value(at: oldObject)) {
                return .allowed
            }
        }
        return evaluatePod(pod, policy: policy, policyErrors: policyErrors, request: request, state: &state, enforce: true)
    }

    enum PodDecodeFailure: Error {
        case wrongKind
        case undecodable(String)
    }

    /// PSA's answer to a pod (or old pod) that does not decode: a fatal error, 400, with the decoder's message
    /// as the cause when there is one.
    private func refusal(_ failure: PodDecodeFailure, oldObject: Bool, _ state: inout RequestState) -> ReviewResponse {
        state.recordError(fatal: true)
        switch failure {
        case .wrongKind:
            return .error(.badRequest(oldObject ? "failed to decode old pod" : "failed to decode pod"), cause: nil)
        case .undecodable(let message):
            state.errorDetail = message
            return .error(.badRequest(oldObject ? "failed to decode old object" : "failed to decode object"), cause: message)
        }
    }

    /// Decodes a Pod object as Go's decoder would into the request's kind: another kind is "not a pod". Throws
    /// rather than returning a `Result`, which was destroyed through the runtime's generic value witnesses.
    private func decodePod(_ object: JSONDocument.Index, in document: JSONDocument, request: ReviewRequest) throws(PodDecodeFailure) -> Pod {
        guard document.kind(object) == .object else {
            throw .undecodable("expected a Pod object, got \(document.kind(object).name)")
        }
        // The object's kind, metadata and spec found in one pass, each key compared with the literals by its length
        // first (three `member` scans cost ~500 instructions); the last of a name wins, as for `member`.
        var kind: JSONDocument.Index?, metadata: JSONDocument.Index?, spec: JSONDocument.Index?
        document.withView { view in
            for member in view.members(of: object) {
                if view.string(member.key, equals: "kind") {
                    kind = member.value
                } else if view.string(member.key, equals: "metadata") {
                    metadata = member.value
                } else if view.string(member.key, equals: "spec") {
                    spec = member.value
                }
            }
        }
        // The object's kind, or the request's when it gives none, must be Pod: compared by its bytes, not built.
        let isPod: Bool
        if let value = kind, document.kind(value) != .null {
            guard document.kind(value) == .string else {
                throw .undecodable("kind: expected a string, got \(document.kind(value).name)")
            }
            isPod = document.string(value, equals: "Pod") || (document.string(value, equals: "") && request.kind == "Pod")
        } else {
            isPod = request.kind == "Pod"
        }
        guard isPod else { throw .wrongKind }
        do {
            return try Pod(document: document, metadata: metadata, spec: spec, path: "")
        } catch {
            throw .undecodable(error.description)
        }
    }

    /// PSA's exemptions by namespace and by user, decided before anything else is read.
    private func exemption(of request: ReviewRequest, _ state: inout RequestState) -> ReviewResponse? {
        if isExemptNamespace(request.namespace) {
            state.recordExemption()
            return .exempt("namespace")
        }
        if isExemptUser(request.userName) {
            state.recordExemption()
            return .exempt("user")
        }
        return nil
    }

    // MARK: - Workloads

    func validatePodController(_ request: ReviewRequest, _ state: inout RequestState, deadline: ContinuousClock.Instant) -> ReviewResponse {
        guard request.operation == "CREATE" || request.operation == "UPDATE" else { return .allowed }
        if !request.subresource.isEmpty { return .allowed }
        if let exempt = exemption(of: request, &state) { return exempt }
        let labels: [String: String]
        do {
            labels = try lookupLabels(request.namespace, deadline: deadline, &state)
        } catch {
            state.recordError(fatal: true)
            state.errorDetail = "\(error)"
            return ReviewResponse(allowed: true, auditAnnotations: AuditAnnotations(
                error: "failed to lookup namespace \(goQuoted(request.namespace)): \(error)"))
        }
        let (policy, policyErrors) = NamespacePolicy.resolve(labels: labels, defaults: configuration.defaults)
        state.policy = policy
        if policyErrors.isEmpty && policy.warn.level == .privileged && policy.audit.level == .privileged {
            return .allowed
        }
        guard let object = request.object else {
            state.recordError(fatal: true)
            return ReviewResponse(allowed: true, auditAnnotations: AuditAnnotations(error: "failed to decode object: request.object is missing"))
        }
        let template: WorkloadTemplate
        do {
            template = try extractPodTemplate(object, in: request.document, request: request)
        } catch let failure {
            state.recordError(fatal: true)
            return ReviewResponse(allowed: true, auditAnnotations: AuditAnnotations(error: failure.annotation))
        }
        guard case .template(let metadata, let spec, let path) = template else { return .allowed }
        let pod: Pod
        do {
            pod = try Pod(document: request.document, metadata: metadata, spec: spec, path: path)
        } catch {
            state.recordError(fatal: true)
            return ReviewResponse(allowed: true, auditAnnotations: AuditAnnotations(error: "failed to decode object: \(error.description)"))
        }
        return evaluatePod(pod, policy: policy, policyErrors: policyErrors, request: request, state: &state, enforce: false)
    }

    enum WorkloadTemplate {
        /// The object has no pod template (a ReplicationController without one): nothing to evaluate.
        case none
        case template(metadata: JSONDocument.Index?, spec: JSONDocument.Index?, path: String)
    }

    enum ExtractFailure: Error {
        case decode(String)
        case unexpectedType(String)

        var annotation: String {
            switch self {
            case .decode(let message): "failed to decode object: \(message)"
            case .unexpectedType(let gvk): "failed to extract pod template: unexpected object type: \(gvk)"
            }
        }
    }

    /// PSA's `DefaultPodSpecExtractor.ExtractPodSpec`, over JSON: where each kind keeps its pod template.
    func extractPodTemplate(_ object: JSONDocument.Index, in document: JSONDocument, request: ReviewRequest) throws(ExtractFailure) -> WorkloadTemplate {
        guard document.kind(object) == .object else {
            throw .decode("expected an object, got \(document.kind(object).name)")
        }
        /// The member `key` of `value`, nil when either is absent or null.
        func nonNull(_ key: String, of value: JSONDocument.Index) -> JSONDocument.Index? {
            guard let child = document.member(key, of: value), document.kind(child) != .null else { return nil }
            return child
        }
        var kind = request.kind
        var objectAPIVersion: String?  // the object's own, when it names one
        if let value = nonNull("kind", of: object) {
            guard document.kind(value) == .string else { throw .decode("kind: expected a string, got \(document.kind(value).name)") }
            let text = document.string(value)
            if !text.isEmpty { kind = text }
        }
        if let value = nonNull("apiVersion", of: object) {
            guard document.kind(value) == .string else { throw .decode("apiVersion: expected a string, got \(document.kind(value).name)") }
            let text = document.string(value)
            if !text.isEmpty { objectAPIVersion = text }
        }

        func member(_ value: JSONDocument.Index?, _ key: String, _ path: String) throws(ExtractFailure) -> JSONDocument.Index? {
            guard let value, document.kind(value) != .null else { return nil }
            guard document.kind(value) == .object else { throw .decode("\(path): expected an object, got \(document.kind(value).name)") }
            return nonNull(key, of: value)
        }
        func template(_ value: JSONDocument.Index?, _ path: String) throws(ExtractFailure) -> WorkloadTemplate {
            guard let value, document.kind(value) != .null else { return .template(metadata: nil, spec: nil, path: path) }
            guard document.kind(value) == .object else { throw .decode("\(path): expected an object, got \(document.kind(value).name)") }
            return .template(metadata: document.member("metadata", of: value), spec: document.member("spec", of: value), path: path)
        }

        switch kind {
        case "Pod":
            return .template(metadata: document.member("metadata", of: object), spec: document.member("spec", of: object), path: "")
        case "PodTemplate":
            return try template(document.member("template", of: object), "template")
        case "ReplicationController":
            // A pointer in Go: no template, nothing to evaluate.
            guard let value = try member(document.member("spec", of: object), "template", "spec") else { return .none }
            return try template(value, "spec.template")
        case "ReplicaSet", "Deployment", "DaemonSet", "StatefulSet", "Job":
            return try template(try member(document.member("spec", of: object), "template", "spec"), "spec.template")
        case "CronJob":
            let jobTemplate = try member(document.member("spec", of: object), "jobTemplate", "spec")
            let jobSpec = try member(jobTemplate, "spec", "spec.jobTemplate")
            return try template(try member(jobSpec, "template", "spec.jobTemplate.spec"), "spec.jobTemplate.spec.template")
        default:
            let (group, version) = objectAPIVersion.map(splitAPIVersion) ?? (request.kindGroup, request.kindVersion)
            throw .unexpectedType("\(group)/\(version), Kind=\(kind)")
        }
    }

    // MARK: - Evaluation

    /// PSA's `EvaluatePod`: enforce (pods only), audit and warn, each policy evaluated once per request.
    func evaluatePod(_ pod: Pod, policy: NamespacePolicy, policyErrors: [FieldError],
                     request: ReviewRequest, state: inout RequestState, enforce: Bool) -> ReviewResponse {
        if isExemptRuntimeClass(pod.spec.runtimeClassName) {
            state.recordExemption()
            return .exempt("runtimeClass")
        }
        // The parts are kept in locals and the response made in one expression at the end: a `var` response
        // written to along the way was copied whole on the way out (and the original destroyed).
        // (The annotations too, field by field: an `AuditAnnotations` filled in along the way was copied as well.)
        var allowed = true
        var failure: ReviewStatus?
        var policyError: String?, enforcePolicy: String?
        var auditViolations: String?, auditViolationsSharedCount = 0
        var warnings: [String] = []
        if !policyErrors.isEmpty {
            policyError = "Failed to parse policy: \(aggregateDescription(policyErrors))"
            state.recordError(fatal: false)
        }
        // At most three policies (one per mode), usually one: three slots held inline, searched in order (a list
        // was an array allocated per request).
        var first: (policy: LevelVersion, result: Evaluation)?
        var second: (policy: LevelVersion, result: Evaluation)?
        var third: (policy: LevelVersion, result: Evaluation)?
        func evaluate(_ levelVersion: LevelVersion) -> Evaluation {
            if let first, first.policy == levelVersion { return first.result }
            if let second, second.policy == levelVersion { return second.result }
            if let third, third.policy == levelVersion { return third.result }
            let result = evaluator(pod, levelVersion)
            if first == nil { first = (levelVersion, result) } else if second == nil { second = (levelVersion, result) } else { third = (levelVersion, result) }
            return result
        }
        // A denial's message (hundreds of bytes) is written straight from the violations into the string that
        // holds it: the enforce message into the status's; audit's and warn's, which usually share one policy,
        // once for both. At the enforce policy, audit's says what the status message says after its verb: it is
        // kept as that (the body copies it from the message), not written as a string of its own.
        var enforceDenial: (policy: LevelVersion, lengthAfterVerb: Int)?
        var lastWouldViolate: (policy: LevelVersion, message: String)?
        func wouldViolateMessage(_ levelVersion: LevelVersion, _ result: Evaluation) -> String {
            if let lastWouldViolate, lastWouldViolate.policy == levelVersion { return lastWouldViolate.message }
            let message = String(writing: result.message(AuditAnnotations.auditVerb.description, levelVersion))
            lastWouldViolate = (levelVersion, message)
            return message
        }

        if enforce {
            enforcePolicy = policy.enforce.description
            let result = evaluate(policy.enforce)
            if !result.allowed {
                let message = result.message("violates", policy.enforce)
                allowed = false
                failure = ReviewResponse.forbiddenStatus(
                    group: request.resourceGroup, resource: request.resource, name: request.name, error: message)
                enforceDenial = (policy.enforce, message.lengthAfterVerb)
                // Recorded with audit's below: most denials are audited at the same policy, and those two events
                // are then one shared array.
            } else {
                state.recordEnforceAllowed(policy.enforce, shared: podAllowedEvents)
            }
        }
        let auditResult = evaluate(policy.audit)
        // Denied and audited at the same policy (most denials): enforce's and audit's events are one shared array.
        let auditDenied = !auditResult.allowed
        let auditedAtEnforce = auditDenied && enforceDenial?.policy == policy.audit
        if auditedAtEnforce {
            state.recordEnforceAndAuditDenied(policy.audit, shared: podDeniedEvents)
        } else if !allowed {
            state.recordEvaluation(decision: "deny", policy.enforce, mode: "enforce")
        }
        if auditDenied {
            if auditedAtEnforce, let enforceDenial, let status = failure?.message {
                // Audit's text is the status message's end after its verb: kept as the message and that length
                // (`AuditAnnotations.auditViolationsSharedCount`); the body copies it, escaped once.
                auditViolations = status
                auditViolationsSharedCount = enforceDenial.lengthAfterVerb
            } else {
                auditViolations = wouldViolateMessage(policy.audit, auditResult)
            }
            if !auditedAtEnforce { state.recordEvaluation(decision: "deny", policy.audit, mode: "audit") }
        }
        // No warnings on a request that is rejected anyway.
        if allowed {
            let warnResult = evaluate(policy.warn)
            if !warnResult.allowed {
                warnings.append(wouldViolateMessage(policy.warn, warnResult))
                state.recordEvaluation(decision: "deny", policy.warn, mode: "warn")
            }
        }
        let annotations = AuditAnnotations(
            enforcePolicy: enforcePolicy, error: policyError, auditViolationsValue: auditViolations,
            auditViolationsSharedCount: auditViolationsSharedCount)
        return ReviewResponse(allowed: allowed, failure: consume failure, auditAnnotations: annotations,
                              warnings: consume warnings)
    }

    // MARK: - Helpers

    private func lookupLabels(_ namespace: String, deadline: ContinuousClock.Instant,
                              _ state: inout RequestState) throws -> [String: String] {
        if !state.mayWait {
            switch namespaces.labelsWithoutWaiting(ofNamespace: namespace) {
            case .labels(let labels): return labels
            case .missing: throw NamespaceNotFound(name: namespace)
            case .unknown:
                // The caller discards this outcome and asks again where waiting is allowed.
                state.neededToWait = true
                throw NamespaceNotFound(name: namespace)
            }
        }
        guard let labels = try namespaces.labels(ofNamespace: namespace, deadline: deadline) else {
            throw NamespaceNotFound(name: namespace)
        }
        return labels
    }

    func isExemptNamespace(_ namespace: String) -> Bool {
        !namespace.isEmpty && configuration.exemptions.namespaces.contains(namespace)
    }

    func isExemptUser(_ userName: String) -> Bool {
        !userName.isEmpty && configuration.exemptions.usernames.contains(userName)
    }

    func isExemptRuntimeClass(_ runtimeClass: String?) -> Bool {
        guard let runtimeClass, !runtimeClass.isEmpty else { return false }
        return configuration.exemptions.runtimeClasses.contains(runtimeClass)
    }
}

/// What one request accumulates on its way: metric events, the policy resolved, error detail for the log.
struct RequestState {
    let operation: String
    let resource: String
    let subresource: String
    var metrics: [AdmissionMetricEvent] = []
    var policy: NamespacePolicy?
    var errorDetail: String?
    /// Whether the namespace lookup may wait (a live GET); when it may not and would have to, `neededToWait`.
    var mayWait = true
    var neededToWait = false

    init(request: ReviewRequest) {
        switch request.operation {
        case "CREATE": operation = "create"
        case "UPDATE": operation = "update"
        default: operation = request.operation.lowercased()
        }
        if request.resourceGroup.isEmpty && request.resource == "pods" {
            resource = "pod"
        } else if request.resourceGroup.isEmpty && request.resource == "namespaces" {
            resource = "namespace"
        } else {
            resource = "controller"
        }
        subresource = request.subresource
    }

    mutating func recordEvaluation(decision: String, _ policy: LevelVersion, mode: String) {
        // One evaluation per mode: room for all three at the first, rather than regrowing at the second.
        if metrics.isEmpty { metrics.reserveCapacity(3) }
        metrics.append(Self.evaluationEvent(decision: decision, policy, mode: mode, operation: operation,
                                            resource: resource, subresource: subresource))
    }

    /// The evaluation event of `decision` at `policy` in `mode`, labelled as the metrics label it.
    static func evaluationEvent(decision: String, _ policy: LevelVersion, mode: String, operation: String,
                                resource: String, subresource: String) -> AdmissionMetricEvent {
        .evaluation(decision: decision, policyLevel: policy.level.rawValue, policyVersion: versionLabel(policy),
                    mode: mode, operation: operation, resource: resource, subresource: subresource)
    }

    /// Records enforce's `allow`. Most requests record this event alone, for a pod at a latest policy: those
    /// events' arrays are made once per controller (`SharedPodEvents`) and shared, not allocated for each
    /// request (a second event then copies the array, as appending to a full one would). Any other allow is
    /// recorded as `recordEvaluation` records it.
    mutating func recordEnforceAllowed(_ policy: LevelVersion, shared: SharedPodEvents) {
        if let events = shared.events(for: self, at: policy) { metrics = events; return }
        recordEvaluation(decision: "allow", policy, mode: "enforce")
    }

    /// Records enforce's `deny` and audit's `deny` at the same `policy`, in that order, shared as
    /// `recordEnforceAllowed` shares allowed ones (two events made per denial: ~600 instructions).
    mutating func recordEnforceAndAuditDenied(_ policy: LevelVersion, shared: SharedPodEvents) {
        if let events = shared.events(for: self, at: policy) { metrics = events; return }
        recordEvaluation(decision: "deny", policy, mode: "enforce")
        recordEvaluation(decision: "deny", policy, mode: "audit")
    }

    mutating func recordExemption() {
        metrics.append(.exemption(operation: operation, resource: resource, subresource: subresource))
    }

    mutating func recordError(fatal: Bool) {
        metrics.append(.error(fatal: fatal, operation: operation, resource: resource, subresource: subresource))
    }

    /// `latest` for latest and for privileged (always effectively latest), `future` past the newest known version.
    static func versionLabel(_ policy: LevelVersion) -> String {
        if isLabelledLatest(policy) { return "latest" }
        if Version.newestKnown < policy.version { return "future" }
        return policy.version.description
    }

    /// Whether `versionLabel` labels `policy` "latest" (privileged is the same at every version).
    static func isLabelledLatest(_ policy: LevelVersion) -> Bool {
        policy.version.isLatest || policy.level == .privileged
    }
}

/// The evaluation events of a pod created or updated (no subresource) at a latest policy, made once per controller
/// and shared by the requests that record exactly them: enforce's `allow` (`RequestState.recordEnforceAllowed`),
/// or enforce's and then audit's `deny` at one policy (`recordEnforceAndAuditDenied`). By operation, then level.
struct SharedPodEvents: Sendable {
    let create: [[AdmissionMetricEvent]]
    let update: [[AdmissionMetricEvent]]

    /// The events `decision` records in each of `modes`, in that order.
    init(decision: String, modes: [String]) {
        create = Self.table(decision: decision, modes: modes, operation: "create")
        update = Self.table(decision: decision, modes: modes, operation: "update")
    }

    /// Each level's events at its `index(of:)`, so the table and the lookup agree by construction.
    private static func table(decision: String, modes: [String], operation: String) -> [[AdmissionMetricEvent]] {
        var table = [[AdmissionMetricEvent]](repeating: [], count: Level.allCases.count)
        for level in Level.allCases {
            let policy = LevelVersion(level: level, version: .latest)
            table[index(of: level)] = modes.map { mode in
                RequestState.evaluationEvent(decision: decision, policy, mode: mode, operation: operation,
                                             resource: "pod", subresource: "")
            }
        }
        return table
    }

    /// Where `level`'s events are in a table.
    static func index(of level: Level) -> Int {
        switch level {
        case .privileged: 0
        case .baseline: 1
        case .restricted: 2
        }
    }

    /// The shared events for `state`'s request at `policy`, when they are exactly what it records: nothing
    /// recorded yet, a pod created or updated without a subresource, a policy labelled latest. Else nil.
    @inline(__always)
    func events(for state: borrowing RequestState, at policy: LevelVersion) -> [AdmissionMetricEvent]? {
        guard state.metrics.isEmpty && state.resource == "pod" && state.subresource.isEmpty
            && RequestState.isLabelledLatest(policy) else { return nil }
        switch state.operation {
        case "create": return create[Self.index(of: policy.level)]
        case "update": return update[Self.index(of: policy.level)]
        default: return nil
        }
    }
}

/// An object that does not decode: the field path and what is wrong.
struct ObjectDecodeError: Error, CustomStringConvertible {
    var path: String
    var message: String
    var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// A `map[string]string` field: null or absent is empty; anything but an object of strings is an error.
func stringMap(_ value: JSONValue?, path: String) throws(ObjectDecodeError) -> [String: String] {
    guard let value, !value.isNull else { return [:] }
    guard let object = value.objectValue else {
        throw ObjectDecodeError(path: path, message: "expected an object, got \(value.kindName)")
    }
    var result: [String: String] = [:]
    for key in object.keys {
        let member = object[key]!
        if member.isNull { result[key] = ""; continue }
        guard let text = member.stringValue else {
            throw ObjectDecodeError(path: "\(path)[\(key)]", message: "expected a string, got \(member.kindName)")
        }
        result[key] = text
    }
    return result
}

// MARK: - Significant pod updates

/// PSA's `isSignificantPodUpdate`: only image changes, container seccomp annotation changes, changed container
/// counts and new or changed ephemeral containers are re-evaluated.
func isSignificantPodUpdate(_ pod: JSONValue, _ oldPod: JSONValue) -> Bool {
    let spec = pod["spec"], oldSpec = oldPod["spec"]
    let annotations = (try? stringMap(pod["metadata"]?["annotations"], path: "")) ?? [:]
    let oldAnnotations = (try? stringMap(oldPod["metadata"]?["annotations"], path: "")) ?? [:]
    func list(_ spec: JSONValue?, _ key: String) -> [JSONValue] { spec?[key]?.arrayValue ?? [] }
    func significant(_ container: JSONValue, _ old: JSONValue) -> Bool {
        if (container["image"]?.stringValue ?? "") != (old["image"]?.stringValue ?? "") { return true }
        let key = "container.seccomp.security.alpha.kubernetes.io/" + (container["name"]?.stringValue ?? "")
        return annotations[key] != oldAnnotations[key]
    }
    let containers = list(spec, "containers"), oldContainers = list(oldSpec, "containers")
    let initContainers = list(spec, "initContainers"), oldInitContainers = list(oldSpec, "initContainers")
    if containers.count != oldContainers.count || initContainers.count != oldInitContainers.count { return true }
    for (new, old) in zip(containers, oldContainers) where significant(new, old) { return true }
    for (new, old) in zip(initContainers, oldInitContainers) where significant(new, old) { return true }
    let oldEphemeral = list(oldSpec, "ephemeralContainers")
    for container in list(spec, "ephemeralContainers") {
        let name = container["name"]?.stringValue ?? ""
        guard let old = oldEphemeral.first(where: { ($0["name"]?.stringValue ?? "") == name }) else { return true }
        if significant(container, old) { return true }
    }
    return false
}

/// `value`, moved out and replaced by the empty string.
@inline(__always)
private func take(_ value: inout String) -> String {
    var taken = ""
    swap(&taken, &value)
    return taken
}
