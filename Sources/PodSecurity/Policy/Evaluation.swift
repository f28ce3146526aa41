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
        var length = 0
        for violation in violations { length += violation.reason.utf8.count + violation.detail.utf8.count + 5 }
        return String(capacity: length) { text in
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
    }

    /// PSA's denial message: `violates PodSecurity "restricted:latest": reason (detail), ...`.
    public func message(for policy: LevelVersion) -> String {
        "violates PodSecurity \"\(policy.description)\": \(forbiddenReason)"
    }
}
