import StrictJSON

/// Where an object of each kind keeps the pod it will create: the kinds PSA's pod spec extractor knows
/// (Pod, and the workload kinds that carry a pod template).
public enum PodTemplateLocator {
    /// The pod's metadata and spec inside `object`, with the path used in decode errors,
    /// or nil when the object's kind carries no pod (a Service, a ConfigMap, ...).
    public static func podParts(of object: JSONValue) -> (metadata: JSONValue?, spec: JSONValue?, path: String)? {
        guard let kind = object["kind"]?.stringValue else { return nil }
        switch kind {
        case "Pod":
            return (object["metadata"], object["spec"], "")
        case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController":
            let template = object["spec"]?["template"]
            return (template?["metadata"], template?["spec"], "spec.template")
        case "CronJob":
            let template = object["spec"]?["jobTemplate"]?["spec"]?["template"]
            return (template?["metadata"], template?["spec"], "spec.jobTemplate.spec.template")
        case "PodTemplate":
            let template = object["template"]
            return (template?["metadata"], template?["spec"], "template")
        default:
            return nil
        }
    }
}
