/// One reason a pod fails a check: the check's ID (upstream's, e.g. `allowPrivilegeEscalation`), the short
/// reason and the detail PSA prints in parentheses.
public struct Violation: Sendable, Hashable {
    public var checkID: String
    public var reason: String
    public var detail: String

    public init(checkID: String, reason: String, detail: String) {
        self.checkID = checkID
        self.reason = reason
        self.detail = detail
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
        for violation in violations {
            length += violation.reason.utf8.count
            if !violation.detail.isEmpty { length += violation.detail.utf8.count + 3 }
        }
        return length
    }

    /// Writes `forbiddenReason` (`forbiddenReasonLength` bytes).
    func writeForbiddenReason(to text: inout UTF8Writer) {
        for (index, violation) in violations.enumerated() {
            if index > 0 { text.write(", ") }
            text.write(violation.reason)
            if !violation.detail.isEmpty {
                text.write(" (")
                text.write(violation.detail)
                text.write(")")
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

    package var utf8Count: Int {
        // `<verb> PodSecurity "<policy>": `: a policy's description is plain ASCII, so Go's `%q` of it is it
        // in double quotes.
        verb.utf8.count + policy.utf8.count + 17 + evaluation.forbiddenReasonLength
    }

    package func write(to text: inout UTF8Writer) {
        text.write(verb)
        text.write(" PodSecurity \"")
        text.write(policy)
        text.write("\": ")
        evaluation.writeForbiddenReason(to: &text)
    }
}
