import PodSecurity
import StrictJSON
import XCTest

/// Parses a pod from JSON text written in a test.
func pod(_ json: String, file: StaticString = #filePath, line: UInt = #line) throws -> Pod {
    try Pod(decoding: JSONParser.parse(json))
}

func policy(_ level: Level, _ version: String = "latest") -> LevelVersion {
    LevelVersion(level: level, version: Version(parsing: version)!)
}

/// The evaluation's reasons and details, as PSA joins them.
func reasons(_ pod: Pod, _ level: Level, _ version: String = "latest") -> String {
    PodSecurityEvaluator.evaluate(pod, at: policy(level, version)).forbiddenReason
}

/// A pod that passes restricted at every version, to tweak in tests.
let restrictedPodJSON = """
{"metadata":{"name":"p","namespace":"ns"},
 "spec":{"securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},
  "containers":[{"name":"a","image":"x","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}
"""
