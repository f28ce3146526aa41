import Manifests
import PodSecurity
import StrictJSON

/// One object of a manifest file that carries a pod, evaluated at one policy.
public struct CheckedObject: Sendable {
    /// The file as named on the command line (`-` for stdin).
    public var file: String
    /// 0-based position of the object in the file: documents in order, a `List`'s items in order.
    public var index: Int
    /// 1-based YAML/JSON document the object came from.
    public var documentNumber: Int
    public var kind: String
    public var namespace: String
    public var name: String
    /// The policy as asked (`latest` stays `latest` in messages).
    public var policy: LevelVersion
    public var evaluation: Evaluation
}

/// Why a file, or one object in it, could not be evaluated.
public struct CheckInputError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Evaluates the pod-bearing objects of manifest files. Pure apart from the bytes it is handed.
public enum ManifestChecker {
    /// Evaluates every pod-bearing object in `bytes`. Objects of other kinds are skipped; a broken document
    /// or a pod field of the wrong type is an error naming the file and the document.
    public static func check(
        _ bytes: [UInt8], file: String, policy: LevelVersion
    ) -> (checked: [CheckedObject], skipped: Int, errors: [CheckInputError]) {
        let objects: [ManifestObject]
        do {
            objects = try ManifestReader.objects(in: bytes, sourceName: file)
        } catch {
            return ([], 0, [CheckInputError(description: error.description)])
        }
        var checked: [CheckedObject] = []
        var errors: [CheckInputError] = []
        var skipped = 0
        for (index, object) in objects.enumerated() {
            guard let parts = PodTemplateLocator.podParts(of: object.value) else {
                skipped += 1
                continue
            }
            let pod: Pod
            do {
                pod = try Pod(metadata: parts.metadata, spec: parts.spec, path: parts.path)
            } catch {
                var location = "\(file): document \(object.documentNumber)"
                if let item = object.itemIndex { location += ", item \(item)" }
                errors.append(CheckInputError(description: "\(location): \(error.description)"))
                continue
            }
            let metadata = object.value["metadata"]
            checked.append(CheckedObject(
                file: file,
                index: index,
                documentNumber: object.documentNumber,
                kind: object.value["kind"]?.stringValue ?? "",
                namespace: metadata?["namespace"]?.stringValue ?? "",
                name: metadata?["name"]?.stringValue ?? metadata?["generateName"]?.stringValue ?? "",
                policy: policy,
                evaluation: PodSecurityEvaluator.evaluate(pod, at: policy)))
        }
        return (checked, skipped, errors)
    }
}
