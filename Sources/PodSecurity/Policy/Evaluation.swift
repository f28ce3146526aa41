/// One reason a pod fails a check: the check's ID (upstream's, e.g. `allowPrivilegeEscalation`), the short
/// reason and the detail PSA prints in parentheses.
public struct Violation: Sendable, Hashable {
    public var checkID: String
    /// The reason and the detail, kept in the finding the check returned: copying them out retained each of its
    /// strings, and freeing the finding then released them again (four of each per violation).
    private(set) var finding: CheckFinding

    public var reason: String {
        get { finding.reason }
        set { finding = CheckFinding(reason: newValue, unwrittenDetail: finding.detail) }
    }

    /// The detail as the check gave it, written only when a message (or `detail`) is.
    package var unwrittenDetail: ViolationDetail {
        get { finding.detail }
        set { finding = CheckFinding(reason: finding.reason, unwrittenDetail: newValue) }
    }

    public var detail: String {
        get { unwrittenDetail.text }
        set { unwrittenDetail = ViolationDetail(newValue) }
    }

    public init(checkID: String, reason: String, detail: String) {
        self.init(checkID: checkID, reason: reason, unwrittenDetail: ViolationDetail(detail))
    }

    package init(checkID: String, reason: String, unwrittenDetail: ViolationDetail) {
        self.init(checkID: checkID, finding: CheckFinding(reason: reason, unwrittenDetail: unwrittenDetail))
    }

    init(checkID: String, finding: CheckFinding) {
        self.checkID = checkID
        self.finding = finding
    }

    public static func == (left: Violation, right: Violation) -> Bool {
        left.checkID == right.checkID && left.reason == right.reason && left.detail == right.detail
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(checkID)
        hasher.combine(reason)
        hasher.combine(detail)
    }
}

/// The outcome of evaluating one pod at one policy: its violations in PSA's check order.
public struct Evaluation: Sendable, Hashable {
    public var violations: [Violation]

    public init(violations: [Violation]) {
        self.violations = violations
    }

    public var allowed: Bool { violations.isEmpty }

    /// The reasons joined as PSA joins them: `reason (detail), reason2 (detail2)`; a reason with an empty
    /// detail stands alone.
    public var forbiddenReason: String {
        String(capacity: forbiddenReasonLength) { writeForbiddenReason(to: &$0) }
    }

    /// The length in bytes of `forbiddenReason`.
    var forbiddenReasonLength: Int {
        var length = 2 * max(violations.count - 1, 0)
        // Read in place: a copy of each violation would retain and release its strings.
        violations.withUnsafeBufferPointer { violations in
            for index in violations.indices {
                length += violations[index].reason.utf8.count
                if !violations[index].unwrittenDetail.isEmpty { length += violations[index].unwrittenDetail.utf8Count + 3 }
            }
        }
        return length
    }

    /// Writes `forbiddenReason` (`forbiddenReasonLength` bytes).
    func writeForbiddenReason(to text: inout UTF8Writer) {
        violations.withUnsafeBufferPointer { violations in
            for index in violations.indices {
                // Read through the finding (a class whose fields are constants): its strings are read in place, not retained.
                let finding = violations[index].finding
                if index > 0 { text.write(literal: ", ") }
                text.write(finding.reason)
                if !finding.detail.isEmpty {
                    text.write(literal: " (")
                    finding.detail.write(to: &text)
                    text.write(literal: ")")
                }
            }
        }
    }

    /// PSA's denial message: `violates PodSecurity "restricted:latest": reason (detail), ...`.
    public func message(for policy: LevelVersion) -> String {
        String(writing: message("violates", policy))
    }

    /// `<verb> PodSecurity "<policy>": <reasons>` (`violates` when enforced, `would violate` for audit and
    /// warn), written from the violations straight into the string that holds it, or into a longer one.
    package func message(_ verb: String, _ policy: LevelVersion) -> ViolationMessage {
        ViolationMessage(verb: verb, policy: policy.description, evaluation: self)
    }
}

/// An evaluation's message for one policy, not yet written: see `Evaluation.message(_:_:)`.
package struct ViolationMessage: WritableText {
    let verb: String
    let policy: String
    let evaluation: Evaluation
    /// The length of everything after the verb, `PodSecurity "<policy>": <reasons>`: the same for every verb,
    /// so a message for another verb can copy it from this one's text (`UTF8Writer.write(_:lastBytes:)`).
    package let lengthAfterVerb: Int

    init(verb: String, policy: String, evaluation: Evaluation) {
        self.verb = verb
        self.policy = policy
        self.evaluation = evaluation
        // ` PodSecurity "<policy>": `: a policy's description is plain ASCII, so Go's `%q` of it is it in
        // double quotes.
        lengthAfterVerb = policy.utf8.count + 17 + evaluation.forbiddenReasonLength
    }

    package var utf8Count: Int { verb.utf8.count + lengthAfterVerb }

    package func write(to text: inout UTF8Writer) {
        text.write(verb)
        text.write(literal: " PodSecurity \"")
        text.write(policy)
        text.write(literal: "\": ")
        evaluation.writeForbiddenReason(to: &text)
    }
}
