import StrictJSON

/// A field of the wrong JSON type, or an otherwise undecodable pod: names the field path.
public struct PodDecodeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field path, e.g. `spec.containers[0].securityContext.privileged`.
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// The pod metadata the checks read. No check reads the pod's name or namespace (admission names the pod from
/// the request, `check` from the manifest), so the model holds neither: the decoder only checks their types.
public struct PodMetadata: Sendable, Hashable {
    /// Annotations. Decoded pods hold only those some check reads (`checkedAnnotationPrefixes`): the others
    /// (restart times, scrape settings, checksums) are ignored as unknown fields are, and cost nothing.
    public var annotations: [String: String]

    /// The annotation keys checks read: AppArmor's per-container profiles, the alpha seccomp profiles of
    /// the pod and of each container. A check that reads another annotation adds its key or prefix here.
    public static let checkedAnnotationPrefixes: [StaticString] = [
        "container.apparmor.security.beta.kubernetes.io/",
        "seccomp.security.alpha.kubernetes.io/pod",
        "container.seccomp.security.alpha.kubernetes.io/",
    ]

    public init(annotations: [String: String] = [:]) {
        self.annotations = annotations
    }
}

/// A pod as the checks see it: metadata and spec, decoded from JSON. Only the fields some check reads are
/// kept; the rest of the object is ignored, as the checks ignore it.
public struct Pod: Sendable, Hashable {
    public var metadata: PodMetadata
    public var spec: PodSpec

    public init(metadata: PodMetadata = PodMetadata(), spec: PodSpec = PodSpec()) {
        self.metadata = metadata
        self.spec = spec
    }

    /// Decodes a Pod object (`{"metadata": ..., "spec": ...}`).
    public init(decoding object: JSONValue) throws(PodDecodeError) {
        guard case .object = object else {
            throw PodDecodeError(path: "", message: "expected a Pod object, found \(object.kindName)")
        }
        self = try Pod(TreeSource(), metadata: object["metadata"], spec: object["spec"], path: "")
    }

    /// Decodes a pod from its metadata and spec, e.g. a workload's pod template. `path` prefixes field paths
    /// in errors (`spec.template` for a Deployment; empty for a Pod).
    public init(metadata: JSONValue?, spec: JSONValue?, path: String) throws(PodDecodeError) {
        self = try Pod(TreeSource(), metadata: metadata, spec: spec, path: path)
    }

    /// Decodes the Pod object at `object` in a parsed document, as `init(decoding:)` decodes its tree.
    public init(decoding document: JSONDocument, at object: JSONDocument.Index) throws(PodDecodeError) {
        guard document.kind(object) == .object else {
            throw PodDecodeError(path: "", message: "expected a Pod object, found \(document.kind(object).name)")
        }
        try self.init(document: document, metadata: document.member("metadata", of: object),
                      spec: document.member("spec", of: object), path: "")
    }

    /// Decodes a pod from its metadata and spec in a parsed document, as `init(metadata:spec:path:)` decodes trees.
    public init(document: JSONDocument, metadata: JSONDocument.Index?, spec: JSONDocument.Index?, path: String) throws(PodDecodeError) {
        self = try document.withView { view throws(PodDecodeError) in
            try Pod(DocumentSource(view: view), metadata: metadata, spec: spec, path: path)
        }
    }

    /// What the decoding initializers share. The parts are decoded into locals and the pod is made once both
    /// are: assigning a throwing call's result to `self.spec` made the optimizer build the pod aside and copy it.
    private init<Source: PodJSONSource>(_ source: Source, metadata: Source.Value?, spec: Source.Value?,
                                        path: String) throws(PodDecodeError) {
        let decoder = FieldDecoder(source, prefix: path)
        let metadata = try decoder.podMetadata(metadata, at: decoder.child("metadata"))
        var decodedSpec = PodSpec()
        try decoder.podSpec(spec, into: &decodedSpec, at: decoder.child("spec"))
        self.init(metadata: metadata, spec: decodedSpec)
    }
}

/// The parts of a PodSpec the checks read.
public struct PodSpec: Sendable, Hashable {
    public var hostNetwork = false
    public var hostPID = false
    public var hostIPC = false
    /// nil when unset; `false` puts the pod in a user namespace, which relaxes some checks from v1.35.
    public var hostUsers: Bool?
    public var securityContext: PodSecurityContext?
    public var initContainers: [Container] = []
    public var containers: [Container] = []
    public var ephemeralContainers: [Container] = []
    /// Decoded pods hold only the volumes a check may flag (`Volume.mayBeFlagged`): the others, nearly all
    /// (configMap, secret, projected, emptyDir, ...), are type-checked and ignored, as unchecked annotations are.
    public var volumes: [Volume] = []
    /// `spec.os.name`: `windows` exempts the pod from some restricted checks from v1.25.
    public var osName: String?
    public var runtimeClassName: String?

    public init() {}

    /// Every container in PSA's visiting order: init containers, containers, then ephemeral containers.
    public var allContainers: [Container] { initContainers + containers + ephemeralContainers }

    /// Calls `body` for every container in PSA's visiting order without building a new array. Each container is
    /// lent from the array's buffer: a `for in` loop hands out copies, and a copy retains its every string.
    @inlinable
    public func forEachContainer(_ body: (borrowing Container) -> Void) {
        initContainers.withUnsafeBufferPointer { for index in $0.indices { body($0[index]) } }
        containers.withUnsafeBufferPointer { for index in $0.indices { body($0[index]) } }
        ephemeralContainers.withUnsafeBufferPointer { for index in $0.indices { body($0[index]) } }
    }

    /// The names of the containers for which `isMatch` holds, in PSA's visiting order. Sized for every
    /// container at the first match (a failing check usually names several), and each name is read in place.
    @inlinable
    public func containerNames(where isMatch: (borrowing Container) -> Bool) -> [String] {
        var names: [String] = []
        let total = initContainers.count + containers.count + ephemeralContainers.count
        Self.appendNames(of: initContainers, where: isMatch, to: &names, reserving: total)
        Self.appendNames(of: containers, where: isMatch, to: &names, reserving: total)
        Self.appendNames(of: ephemeralContainers, where: isMatch, to: &names, reserving: total)
        return names
    }

    /// `containerNames`' step for one list. The names are passed `inout`: a local array mutated from a nested
    /// function was checked for exclusive access at run time (swift_beginAccess/endAccess per name and list).
    @inlinable
    static func appendNames(of list: [Container], where isMatch: (borrowing Container) -> Bool,
                            to names: inout [String], reserving total: Int) {
        list.withUnsafeBufferPointer { buffer in
            for index in buffer.indices where isMatch(buffer[index]) {
                if names.isEmpty { names.reserveCapacity(total) }
                names.append(buffer[index].name)
            }
        }
    }

    /// PSA's `spec.os.name == "windows"`.
    public var isWindows: Bool { osName == "windows" }

    /// PSA's `relaxPolicyForUserNamespacePod`: `hostUsers` explicitly false.
    public var isInUserNamespace: Bool { hostUsers == false }
}

/// `spec.securityContext`, the fields the checks read.
public struct PodSecurityContext: Sendable, Hashable {
    public var runAsNonRoot: Bool?
    public var runAsUser: Int64?
    /// Held by reference, as a container's is (see `SecurityContext.rarelySet`).
    public var seLinuxOptions: SELinuxOptions? {
        get { seLinuxOptionsBox?.value }
        set { seLinuxOptionsBox = newValue.map(ImmutableBox.init) }
    }
    private var seLinuxOptionsBox: ImmutableBox<SELinuxOptions>?
    public var seccompProfile: SeccompProfile?
    public var appArmorProfile: AppArmorProfile?
    public var windowsOptions: WindowsOptions?
    public var sysctls: [Sysctl] = []

    public init() {}
}

/// A container, init container or ephemeral container: the fields the checks read.
public struct Container: Sendable, Hashable {
    public var name = ""
    public var securityContext: SecurityContext?
    /// Decoded containers hold only the ports that set a host port (`hostPort` non-zero), in order: the only
    /// ones a check reads. The others are type-checked and ignored, as unchecked annotations are.
    public var ports: [ContainerPort] = []
    public var livenessProbe: Probe?
    public var readinessProbe: Probe?
    public var startupProbe: Probe?
    public var lifecycle: Lifecycle?

    public init(name: String = "") { self.name = name }
}

/// A container's `securityContext`.
public struct SecurityContext: Sendable, Hashable {
    public var privileged: Bool?
    public var allowPrivilegeEscalation: Bool?
    public var runAsNonRoot: Bool?
    public var runAsUser: Int64?
    public var capabilities: Capabilities?
    public var seLinuxOptions: SELinuxOptions? {
        get { rarelySet?.value.seLinuxOptions }
        set { updateRarelySet { $0.seLinuxOptions = newValue } }
    }
    public var seccompProfile: SeccompProfile?
    public var appArmorProfile: AppArmorProfile? {
        get { rarelySet?.value.appArmorProfile }
        set { updateRarelySet { $0.appArmorProfile = newValue } }
    }
    public var windowsOptions: WindowsOptions?
    public var procMount: String? {
        get { rarelySet?.value.procMount }
        set { updateRarelySet { $0.procMount = newValue } }
    }

    /// The fields few containers set, six strings between them: held by reference (one word, nil when none is
    /// set), since every copy and destroy of a container (the checks copy its security context) walked them
    /// all inline. The box is immutable, so the properties still behave as values.
    private var rarelySet: ImmutableBox<RarelySet>?

    private struct RarelySet: Sendable, Hashable {
        var seLinuxOptions: SELinuxOptions?
        var appArmorProfile: AppArmorProfile?
        var procMount: String?
    }

    /// Replaces the box with one holding the change, or with none when no field is left set: a context whose
    /// rare fields are all unset is then equal to one that never had them.
    private mutating func updateRarelySet(_ change: (inout RarelySet) -> Void) {
        var fields = rarelySet?.value ?? RarelySet()
        change(&fields)
        rarelySet = fields == RarelySet() ? nil : ImmutableBox(fields)
    }

    public init() {}
}

public struct Capabilities: Sendable, Hashable {
    public var add: [String] = []
    public var drop: [String] = []
    public init(add: [String] = [], drop: [String] = []) { self.add = add; self.drop = drop }
}

public struct SELinuxOptions: Sendable, Hashable {
    public var user = ""
    public var role = ""
    public var type = ""
    public var level = ""
    public init() {}
}

/// A value held by reference in the model, for fields rarely set (see `SecurityContext.rarelySet`). Immutable:
/// a change makes a new box, so the struct holding it still behaves as a value. Compared and hashed by its
/// value, so the holder's synthesized `Hashable` compares what the value inline did.
private final class ImmutableBox<Value: Sendable & Hashable>: Sendable, Hashable {
    let value: Value

    init(_ value: Value) { self.value = value }

    static func == (lhs: ImmutableBox, rhs: ImmutableBox) -> Bool { lhs.value == rhs.value }
    func hash(into hasher: inout Hasher) { value.hash(into: &hasher) }
}

public struct SeccompProfile: Sendable, Hashable {
    public var type = ""
    public init(type: String = "") { self.type = type }
}

public struct AppArmorProfile: Sendable, Hashable {
    public var type = ""
    public init(type: String = "") { self.type = type }
}

public struct WindowsOptions: Sendable, Hashable {
    public var hostProcess: Bool?
    public init(hostProcess: Bool? = nil) { self.hostProcess = hostProcess }
}

public struct Sysctl: Sendable, Hashable {
    public var name = ""
    public var value = ""
    public init(name: String = "", value: String = "") { self.name = name; self.value = value }
}

public struct ContainerPort: Sendable, Hashable {
    public var hostPort: Int32 = 0
    public var containerPort: Int32 = 0
    public init(hostPort: Int32 = 0, containerPort: Int32 = 0) { self.hostPort = hostPort; self.containerPort = containerPort }
}

/// A probe or lifecycle handler: only the `host` fields of its `httpGet` and `tcpSocket` actions matter.
public struct ProbeHandler: Sendable, Hashable {
    /// `httpGet.host` when `httpGet` is set ("" when the host is unset).
    public var httpGetHost: String?
    /// `tcpSocket.host` when `tcpSocket` is set ("" when the host is unset).
    public var tcpSocketHost: String?
    public init(httpGetHost: String? = nil, tcpSocketHost: String? = nil) {
        self.httpGetHost = httpGetHost
        self.tcpSocketHost = tcpSocketHost
    }
}

public typealias Probe = ProbeHandler

public struct Lifecycle: Sendable, Hashable {
    public var postStart: ProbeHandler?
    public var preStop: ProbeHandler?
    public init(postStart: ProbeHandler? = nil, preStop: ProbeHandler? = nil) {
        self.postStart = postStart
        self.preStop = preStop
    }
}

/// A volume: its name and which sources it sets.
public struct Volume: Sendable, Hashable {
    public var name = ""
    /// A bit per source set (non-null), by its position in `VolumeSourceKind.allCases`: kept inline, where an
    /// array cost every volume an allocation to make and one to free.
    var sourceBits: UInt64 = 0

    /// The volume source fields set (non-null), in `VolumeSourceKind` order. The checks only ask which are set.
    public var sources: [VolumeSourceKind] {
        get { VolumeSourceKind.allCases.filter { sourceBits & $0.bit != 0 } }
        set { sourceBits = newValue.reduce(0) { $0 | $1.bit } }
    }

    public init(name: String = "", sources: [VolumeSourceKind] = []) {
        self.name = name
        self.sources = sources
    }

    /// Marks `kind` set or unset; a repeated key's last value wins.
    mutating func setSource(_ kind: VolumeSourceKind, isSet: Bool) {
        if isSet { sourceBits |= kind.bit } else { sourceBits &= ~kind.bit }
    }

    /// A volume with no source is defaulted to `emptyDir` by the apiserver before admission sees it.
    public func has(_ kind: VolumeSourceKind) -> Bool { hasAny(of: kind.bit) }

    /// Whether some check may flag the volume: `restrictedVolumes` flags one with none of its allowed sources,
    /// `hostPathVolumes` one with a hostPath. A check that reads volumes otherwise changes this test.
    var mayBeFlagged: Bool { !hasAny(of: Checks.allowedVolumeSourceBits) || has(.hostPath) }

    /// Whether the volume has any of the sources in `kinds` (a mask of their `bit`s); none set counts as
    /// `emptyDir`, as for `has`.
    func hasAny(of kinds: UInt64) -> Bool {
        (sourceBits == 0 ? VolumeSourceKind.emptyDir.bit : sourceBits) & kinds != 0
    }
}

/// Every volume source of core/v1 `VolumeSource`, named as in JSON.
public enum VolumeSourceKind: String, Sendable, Hashable, CaseIterable {
    case hostPath, emptyDir, gcePersistentDisk, awsElasticBlockStore, gitRepo, secret, nfs, iscsi, glusterfs
    case persistentVolumeClaim, rbd, flexVolume, cinder, cephfs, flocker, downwardAPI, fc, azureFile, configMap
    case vsphereVolume, quobyte, azureDisk, photonPersistentDisk, projected, portworxVolume, scaleIO, storageos
    case csi, ephemeral, image
}

extension VolumeSourceKind {
    /// The kind's bit in `Volume.sourceBits`: its position in `allCases`, which for an enum without payloads is
    /// its stored tag (declaration order; `PodDecodingTests` checks it).
    var bit: UInt64 { 1 << unsafeBitCast(self, to: UInt8.self) }
}
