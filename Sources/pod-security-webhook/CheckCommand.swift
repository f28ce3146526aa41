import ManifestCheck
import PodSecurity

/// `pod-security-webhook check [--level L] [--version V] [-o text|json] FILE…|-`
enum CheckCommand {
    static let usage = """
        usage: pod-security-webhook check [--level privileged|baseline|restricted] [--version v1.N|latest] [-o text|json] FILE... | -
          Evaluates Pods and workloads (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob,
          ReplicationController, PodTemplate) in JSON or YAML manifests (multi-document, Lists) against a
          Pod Security Standard. Defaults: --level restricted --version latest -o text. `-` reads stdin.
          Exit status: 0 all allowed, 1 a violation found, 2 bad input or usage.
        """

    static func run(_ arguments: ArraySlice<String>) -> Int32 {
        var level = Level.restricted
        var version = Version.latest
        var format = CheckOutputFormat.text
        var files: [String] = []
        var remaining = arguments
        while let argument = remaining.popFirst() {
            switch argument {
            case "--level", "--version", "-o", "--output":
                guard let value = remaining.popFirst() else { return usageError("\(argument) needs a value") }
                if argument == "--level" {
                    guard let parsed = Level(parsing: value) else {
                        return usageError("invalid --level \(value.debugDescription): must be privileged, baseline or restricted")
                    }
                    level = parsed
                } else if argument == "--version" {
                    guard let parsed = Version(parsing: value) else {
                        return usageError("invalid --version \(value.debugDescription): must be latest or v1.N")
                    }
                    version = parsed
                } else {
                    guard let parsed = CheckOutputFormat(rawValue: value) else {
                        return usageError("invalid -o \(value.debugDescription): must be text or json")
                    }
                    format = parsed
                }
            case "-h", "--help":
                Output.write(usage)
                return 0
            case "-":
                files.append(argument)
            default:
                if argument.hasPrefix("-") { return usageError("unknown flag \(argument)") }
                files.append(argument)
            }
        }
        guard !files.isEmpty else { return usageError("no input: give one or more files, or - for stdin") }

        let policy = LevelVersion(level: level, version: version)
        var sawViolation = false
        var sawBadInput = false
        var allowedCount = 0
        var violatingCount = 0
        var skippedCount = 0
        for file in files {
            let bytes: [UInt8]
            do {
                bytes = try FileBytes.read(file)
            } catch {
                Output.error("error: \(error)")
                sawBadInput = true
                continue
            }
            let result = ManifestChecker.check(bytes, file: file, policy: policy)
            for object in result.checked {
                if object.evaluation.allowed { allowedCount += 1 } else { violatingCount += 1; sawViolation = true }
                Output.write(format == .json ? CheckReport.jsonLine(object) : CheckReport.text(object))
            }
            skippedCount += result.skipped
            for error in result.errors {
                Output.error("error: \(error)")
                sawBadInput = true
            }
        }
        if format == .text {
            var summary = "\(allowedCount + violatingCount) evaluated against \(policy): \(allowedCount) allowed, \(violatingCount) violating"
            if skippedCount > 0 { summary += ", \(skippedCount) without a pod skipped" }
            Output.write(summary)
        }
        return sawBadInput ? 2 : (sawViolation ? 1 : 0)
    }

    private static func usageError(_ message: String) -> Int32 {
        Output.error("error: \(message)\n\n\(usage)")
        return 2
    }
}
