import AdmissionControl
import Glibc
import PodSecurity
import StrictJSON

/// Engine micro-benchmark: median time to decode, evaluate and answer one AdmissionReview, in-process.
/// Usage: pod-security-bench REVIEW.json [batches] [iterations-per-batch]
let arguments = CommandLine.arguments
/// Writes `message` to standard error and exits 2 (bad usage or input).
func fail(_ message: String) -> Never {
    let line = Array((message + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

guard arguments.count >= 2 else { fail("usage: pod-security-bench REVIEW.json [batches] [iterations]") }
let batches = arguments.count > 2 ? Int(arguments[2]) ?? 21 : 21
let iterations = arguments.count > 3 ? Int(arguments[3]) ?? 2_000 : 2_000

func readFile(_ path: String) -> [UInt8] {
    guard let file = fopen(path, "rb") else { fail("cannot open \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count == 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
    }
    return bytes
}

/// Median over `batches` of the mean time per call within a batch, in microseconds.
func measure(_ name: String, _ body: () -> Void) {
    let clock = ContinuousClock()
    for _ in 0..<(iterations / 10) { body() }  // warm-up
    var perCall: [Double] = []
    for _ in 0..<batches {
        let elapsed = clock.measure { for _ in 0..<iterations { body() } }
        let (seconds, attoseconds) = elapsed.components
        perCall.append((Double(seconds) * 1e6 + Double(attoseconds) / 1e12) / Double(iterations))
    }
    perCall.sort()
    let median = perCall[perCall.count / 2]
    let text = String(Int(median * 100)).count > 2 ? "\(Double(Int(median * 100)) / 100)" : "\(median)"
    print("\(name): \(text) µs median (\(batches) batches x \(iterations))")
}

let body = readFile(arguments[1])
guard let review = try? JSONParser.parse(body), let podObject = review["request"]?["object"],
      let pod = try? Pod(decoding: podObject)
else { fail("\(arguments[1]) is not an AdmissionReview holding a Pod") }
let policy = LevelVersion(level: .restricted, version: .latest)
var sink = 0

print("engine micro-benchmark on \(arguments[1]) (\(body.count) bytes)")
// What admission does: the body validated into a flat document (no tree, no strings until read).
measure("JSON validation of the review (flat document, as admission reads it)") {
    let document = try! JSONDocument(parsing: body)
    sink &+= document.count(document.root)
}
measure("decode: validation + Pod model") {
    let document = try! JSONDocument(parsing: body)
    let object = document.member("object", of: document.member("request", of: document.root)!)!
    sink &+= try! Pod(decoding: document, at: object).metadata.annotations.count
}
// For comparison: the JSON tree `check` and the manifests use (not on the request path).
measure("JSON tree parse of the review (JSONParser.parse, used by check)") {
    if case .object(let o) = try! JSONParser.parse(body) { sink &+= o.members.count }
}
measure("evaluate restricted:latest (decode excluded)") { sink &+= PodSecurityEvaluator.evaluate(pod, at: policy).violations.count }

// The whole admission path in-process: parse the review, resolve the policy (restricted:latest for every mode),
// decode the pod, evaluate (once, shared by enforce, audit and warn), and write the response.
let configuration = try! AdmissionConfiguration(decoding: JSONParser.parse(#"""
{"apiVersion":"pod-security.admission.config.k8s.io/v1","kind":"PodSecurityConfiguration",
 "defaults":{"enforce":"restricted","enforce-version":"latest","audit":"restricted","audit-version":"latest","warn":"restricted","warn-version":"latest"}}
"""#))
let controller = AdmissionController(configuration: configuration, namespaces: DefaultsOnlyNamespaces(), pods: NoPods())
let farDeadline = ContinuousClock.now.advanced(by: .seconds(3600))
measure("admission: review in, response out (decode + evaluate + encode)") {
    sink &+= controller.handle(reviewBody: body, deadline: farDeadline).body.count
}
if sink == 42 { print("") }  // keeps the optimizer from discarding the work
