import PodSecurity
import StrictJSON

/// How `check` writes its results.
public enum CheckOutputFormat: String, Sendable {
    case text
    case json
}

/// Renders evaluated objects for people (`text`) or machines (`json`: JSON Lines, one object per line).
public enum CheckReport {
    /// One JSON Lines record:
    /// `{"file","index","kind","namespace","name","level","version","allowed","violations":[{"check","reason","detail"}],"message"}`.
    public static func jsonLine(_ object: CheckedObject) -> String {
        let violations: [JSONValue] = object.evaluation.violations.map { violation in
            .object(JSONObject([
                "check": .string(violation.checkID),
                "reason": .string(violation.reason),
                "detail": .string(violation.detail),
            ]))
        }
        let record = JSONValue.object(JSONObject([
            "file": .string(object.file),
            "index": .number(JSONNumber(object.index)),
            "kind": .string(object.kind),
            "namespace": .string(object.namespace),
            "name": .string(object.name),
            "level": .string(object.policy.level.rawValue),
            "version": .string(object.policy.version.description),
            "allowed": .bool(object.evaluation.allowed),
            "violations": .array(violations),
            "message": .string(object.evaluation.allowed ? "" : object.evaluation.message(for: object.policy)),
        ]))
        return record.jsonText
    }

    /// A few lines a person can read: the verdict, the object, and each violation with its check ID.
    public static func text(_ object: CheckedObject) -> String {
        var subject = object.kind + " "
        if !object.namespace.isEmpty { subject += object.namespace + "/" }
        subject += object.name.isEmpty ? "(unnamed)" : object.name
        let location = "\(object.file) document \(object.documentNumber)"
        guard !object.evaluation.allowed else {
            return "PASS \(location): \(subject) meets \(object.policy)"
        }
        var lines = ["FAIL \(location): \(subject) \(object.evaluation.message(for: object.policy))"]
        for violation in object.evaluation.violations {
            lines.append("  - [\(violation.checkID)] \(violation.reason): \(violation.detail)")
        }
        return lines.joined(separator: "\n")
    }
}
