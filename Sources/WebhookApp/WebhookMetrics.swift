import AdmissionControl

/// The webhook's Prometheus metrics: PSA's own families (same names and labels as the built-in plugin's),
/// plus the HTTP request count and latency histogram PSA's plugin gets from the apiserver.
public struct WebhookMetrics: Sendable {
    public let registry: MetricsRegistry

    public static let requestDuration = "pod_security_webhook_request_duration_seconds"
    public static let requests = "pod_security_webhook_requests_total"

    public init() {
        registry = MetricsRegistry(families: [
            .init(name: "pod_security_evaluations_total",
                  help: "Number of policy evaluations that occurred, not counting ignored or exempt requests.", kind: .counter),
            .init(name: "pod_security_exemptions_total", help: "Number of exempt requests, not counting ignored or out of scope requests.",
                  kind: .counter),
            .init(name: "pod_security_errors_total", help: "Number of errors preventing normal evaluation. Non-fatal errors may result in the latest restricted profile being used for evaluation.",
                  kind: .counter),
            .init(name: Self.requests, help: "Admission requests answered, by HTTP status code.", kind: .counter),
            .init(name: Self.requestDuration, help: "Time from a complete request body to its response, in seconds, by kind of request.",
                  kind: .histogram,
                  buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
        ])
    }

    /// Records what one admission request produced, with its status and duration, in one update.
    public func record(_ events: [AdmissionMetricEvent], status: Int, kind: String, seconds: Double) {
        var samples: [MetricsRegistry.Sample] = []
        samples.reserveCapacity(events.count + 2)
        for event in events {
            samples.append(.increment(event.name, labels: event.labels.map { ($0.name, $0.value) }))
        }
        samples.append(.increment(Self.requests, labels: [("code", String(status))]))
        samples.append(.observe(Self.requestDuration, value: seconds, labels: [("kind", kind.isEmpty ? "unknown" : kind)]))
        registry.record(samples)
    }

    /// The Prometheus text exposition.
    public func render() -> String { registry.render() }
}
