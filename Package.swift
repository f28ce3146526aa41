// swift-tools-version:6.0
// pod-security-webhook: a Kubernetes validating admission webhook enforcing the Pod Security Standards.
// No package dependencies by design: Foundation, Dispatch, XCTest and system C libraries only.
import PackageDescription

// Release builds on Linux lay the executable out so that what it runs is little and together (bench/README.md,
// item 43): each function in its own section, so the linker can place and drop them one by one; the functions
// that start the server and serve a review first, in the order of `link-order.txt` (made by `bench/link-order`;
// a stale list only costs memory, never correctness); relative relocations packed (DT_RELR, glibc 2.36+), so
// the loader reads a few KiB instead of 650. The toolchain's lld does both; its default linker, gold, has no DT_RELR.
// `nostart-stop-gc` keeps lld's section garbage collection from dropping Swift's reflection metadata, which the
// runtime finds through `__start_`/`__stop_` symbols (Swift's own driver once passed it for lld; it no longer does).
let packageDirectory = String(#filePath.dropLast("Package.swift".count))
let functionSections = SwiftSetting.unsafeFlags(["-Xfrontend", "-function-sections"], .when(platforms: [.linux], configuration: .release))
let linkedForResidentSize = LinkerSetting.unsafeFlags([
    "-use-ld=lld",
    "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
    "-Xlinker", "-z", "-Xlinker", "nostart-stop-gc",
    "-Xlinker", "--symbol-ordering-file=\(packageDirectory)Sources/pod-security-webhook/link-order.txt",
    "-Xlinker", "--no-warn-symbol-ordering",
], .when(platforms: [.linux], configuration: .release))

let package = Package(
    name: "pod-security-webhook",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pod-security-webhook", targets: ["pod-security-webhook"]),
    ],
    targets: [
        // System C libraries, reached through module maps.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // epoll and eventfd, which Swift's Glibc module does not export, for the server's event loops.
        .target(name: "CEventPoll"),
        // What Swift cannot call directly in OpenSSL (macros, callbacks).
        .target(name: "CTLSShim", dependencies: ["COpenSSL"]),

        // bytes -> JSON values: a strict, validating, fast reader and writer (request-path security code).
        .target(name: "StrictJSON"),
        // The pure policy engine: Pod model, levels, versions, one file per check. No I/O.
        .target(name: "PodSecurity", dependencies: ["StrictJSON"]),
        // Manifest files (JSON, multi-document YAML, Lists) -> JSON values, for the `check` command.
        .target(name: "Manifests", dependencies: ["StrictJSON", "CYAML"]),
        // The `check` command's engine: manifests in, evaluated objects and reports out.
        .target(name: "ManifestCheck", dependencies: ["Manifests", "PodSecurity", "StrictJSON"]),
        // AdmissionReview in and out: policy resolution, exemptions, modes, workloads, namespaces.
        .target(name: "AdmissionControl", dependencies: ["PodSecurity", "StrictJSON"]),
        // TLS on the system OpenSSL: contexts, server and client connections; and the plumbing the server and
        // the Kubernetes client share (TCP connect, socket descriptors, the monotonic clock, locks, threads).
        .target(name: "TLS", dependencies: ["CTLSShim", "COpenSSL"]),
        // HTTP/1.1 over TLS: parser, writer, event loops, limits. Knows nothing of pods.
        .target(name: "HTTPServer", dependencies: ["TLS", "StrictJSON", "CEventPoll"]),
        // A small Kubernetes API client: in-cluster config, kubeconfig, namespaces cache, pod lists.
        .target(name: "KubernetesClient", dependencies: ["TLS", "StrictJSON"]),
        // The webhook application: routes, metrics, logs; wires admission to the server.
        .target(name: "WebhookApp", dependencies: ["AdmissionControl", "HTTPServer", "TLS", "KubernetesClient", "Manifests", "PodSecurity", "StrictJSON"]),
        // The executable: flags and wiring only.
        .executableTarget(
            name: "pod-security-webhook",
            dependencies: ["WebhookApp", "ManifestCheck", "Manifests", "AdmissionControl", "KubernetesClient", "HTTPServer", "TLS", "PodSecurity", "StrictJSON"],
            exclude: ["link-order.txt"],
            linkerSettings: [linkedForResidentSize]
        ),
        // Engine micro-benchmark: decode, evaluate, encode medians.
        .executableTarget(name: "pod-security-bench", dependencies: ["AdmissionControl", "PodSecurity", "StrictJSON"], path: "bench/Sources/pod-security-bench"),

        .testTarget(name: "StrictJSONTests", dependencies: ["StrictJSON"]),
        .testTarget(name: "PodSecurityTests", dependencies: ["PodSecurity", "StrictJSON"]),
        .testTarget(name: "ConformanceTests", dependencies: ["PodSecurity", "StrictJSON"]),
        .testTarget(name: "ManifestsTests", dependencies: ["Manifests", "StrictJSON"]),
        .testTarget(name: "AdmissionControlTests", dependencies: ["AdmissionControl", "PodSecurity", "StrictJSON"]),
        .testTarget(name: "TLSTests", dependencies: ["TLS"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "TLS", "CEventPoll"]),
        .testTarget(name: "KubernetesClientTests", dependencies: ["KubernetesClient", "TLS", "HTTPServer", "StrictJSON", "Manifests"]),
        .testTarget(name: "WebhookAppTests", dependencies: ["WebhookApp", "AdmissionControl", "KubernetesClient", "HTTPServer", "TLS", "StrictJSON"]),
        .testTarget(name: "CommandLineTests", dependencies: ["pod-security-webhook", "TLS"]),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [functionSections]
}
