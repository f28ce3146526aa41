import StrictJSON

/// Decodes the JSON of a pod into the model, field by field, the way the apiserver's Go decoder reads it:
/// absent and `null` fields are unset, a repeated key's last value wins, unknown fields are ignored, and a
/// field of the wrong JSON type is an error naming its path. The path is only built when there is an error.
/// It reads JSON through a `PodJSONSource`: a parsed `JSONDocument` on the admission path (keys matched by their
/// bytes, only the strings the model keeps ever built) or a `JSONValue` tree (manifests, listed pods), each
/// compiled for its own representation. A struct: on the admission path it holds the document by address (a
/// `JSONDocument.View`), so the closures that build error paths capture it without retaining anything; as a
/// class, each of them retained and released the decoder.
struct FieldDecoder<Source: PodJSONSource> {
    typealias Value = Source.Value
    let source: Source
    private let prefix: String

    init(_ source: Source, prefix: String) {
        self.source = source
        self.prefix = prefix
    }

    /// The field among those one kind of object holds that a key names (`match`: a `PodField` matcher such as
    /// `PodField.containerField`), nil for keys no check reads there. The key's bytes are compared in place with
    /// the few names the object may hold, each test mostly a length comparison: a hash lookup of every key among
    /// all the decoder's names cost ~60 instructions a key that passed its prefilter.
    @inline(__always)
    private func field(_ key: Source.Key, _ match: (UnsafeBufferPointer<UInt8>) -> PodField?) -> PodField? {
        // A key without escapes (nearly all) is handed to the matcher as it lies, not through `withUTF8`'s body:
        // that way the optimizer compiles the matching into the loop reading the object (~900 instructions a
        // review fewer; the same test for the one-name and annotation tests measured no better).
        if let bytes = source.plainUTF8(of: key) { return match(bytes) }
        return source.withUTF8(of: key, match)
    }

    /// Whether a key is `name`, for objects of which one field is read.
    @inline(__always)
    private func isKey(_ key: Source.Key, _ name: StaticString) -> Bool { source.withUTF8(of: key) { $0.isName(name) } }

    /// Whether an annotation's key is one some check reads (`PodMetadata.checkedAnnotationPrefixes`).
    @inline(__always)
    private func isCheckedAnnotation(_ key: Source.Key) -> Bool {
        source.withUTF8(of: key, PodMetadata.isCheckedAnnotation)
    }

    /// A key's text, for error paths.
    @inline(__always)
    private func keyText(_ key: Source.Key) -> String { source.keyText(key) }

    /// A path below the decoder's prefix, e.g. `spec.template` + `metadata`.
    func child(_ key: String) -> FieldPath { FieldPath(rendered: prefix.isEmpty ? key : "\(prefix).\(key)") }

    // MARK: metadata

    func podMetadata(_ value: Value?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> PodMetadata {
        var metadata = PodMetadata()
        guard let members = try object(value, at: path()) else { return metadata }
        for member in members {
            switch field(member.key, PodField.metadataField) {
            // Read by no check: only their types are checked, as the apiserver's decoder checks them.
            case .name?: try expectString(member.value, at: path().key("name"))
            case .namespace?: try expectString(member.value, at: path().key("namespace"))
            case .annotations?:
                func annotationsPath() -> FieldPath { path().key("annotations") }
                guard let entries = try object(member.value, at: annotationsPath()) else {
                    metadata.annotations = [:]
                    continue
                }
                var annotations: [String: String] = [:]
                for entry in entries {
                    guard isCheckedAnnotation(entry.key) else {
                        // Read by no check: only its type is checked, as the apiserver's decoder checks it.
                        try expectString(entry.value, at: annotationsPath().key(keyText(entry.key)))
                        continue
                    }
                    if annotations.isEmpty {
                        // Not `[:]` then reserveCapacity: that resize runs unspecialized, looking up the storage's
                        // metadata.
                        annotations = [String: String](minimumCapacity: 1)
                    }
                    annotations[keyText(entry.key)] = try string(entry.value, at: annotationsPath().key(keyText(entry.key))) ?? ""
                }
                metadata.annotations = annotations
            default: continue
            }
        }
        return metadata
    }

    // MARK: spec

    /// Decodes into `spec` (a fresh `PodSpec`) where the caller keeps it: returning one copied it whole.
    func podSpec(_ value: Value?, into spec: inout PodSpec, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) {
        guard let members = try object(value, at: path()) else { return }
        for member in members {
            let value = member.value
            switch field(member.key, PodField.specField) {
            case .hostNetwork?: spec.hostNetwork = try bool(value, at: path().key("hostNetwork")) ?? false
            case .hostPID?: spec.hostPID = try bool(value, at: path().key("hostPID")) ?? false
            case .hostIPC?: spec.hostIPC = try bool(value, at: path().key("hostIPC")) ?? false
            case .hostUsers?: spec.hostUsers = try bool(value, at: path().key("hostUsers"))
            case .runtimeClassName?: spec.runtimeClassName = try string(value, at: path().key("runtimeClassName"))
            case .os?:
                func osPath() -> FieldPath { path().key("os") }
                spec.osName = nil
                if let os = try object(value, at: osPath()) {
                    for field in os where isKey(field.key, "name") {
                        spec.osName = try string(field.value, at: osPath().key("name"))
                    }
                }
            case .securityContext?:
                func contextPath() -> FieldPath { path().key("securityContext") }
                guard let fields = try object(value, at: contextPath()) else {
                    spec.securityContext = nil
                    continue
                }
                spec.securityContext = PodSecurityContext()
                try podSecurityContext(fields, into: &spec.securityContext!, at: contextPath())
            case .containers?: spec.containers = try containers(value, at: path().key("containers"))
            case .initContainers?: spec.initContainers = try containers(value, at: path().key("initContainers"))
            case .ephemeralContainers?: spec.ephemeralContainers = try containers(value, at: path().key("ephemeralContainers"))
            case .volumes?: spec.volumes = try volumes(value, at: path().key("volumes"))
            default: continue
            }
        }
    }

    /// Decodes the members of a pod's `securityContext` into `context` (a fresh one), where the spec keeps it:
    /// returning one made the optimizer move it through an unspecialized value witness.
    private func podSecurityContext(_ members: Source.Members, into context: inout PodSecurityContext,
                                    at path: @autoclosure () -> FieldPath) throws(PodDecodeError) {
        for member in members {
            let value = member.value
            switch field(member.key, PodField.podSecurityContextField) {
            case .runAsNonRoot?: context.runAsNonRoot = try bool(value, at: path().key("runAsNonRoot"))
            case .runAsUser?: context.runAsUser = try int64(value, at: path().key("runAsUser"))
            case .seLinuxOptions?: context.seLinuxOptions = try seLinuxOptions(value, at: path().key("seLinuxOptions"))
            case .seccompProfile?:
                context.seccompProfile = try typeOnly(value, at: path().key("seccompProfile")).map { SeccompProfile(type: $0) }
            case .appArmorProfile?:
                context.appArmorProfile = try typeOnly(value, at: path().key("appArmorProfile")).map { AppArmorProfile(type: $0) }
            case .windowsOptions?: context.windowsOptions = try windowsOptions(value, at: path().key("windowsOptions"))
            case .sysctls?:
                func sysctlsPath() -> FieldPath { path().key("sysctls") }
                var sysctls: [Sysctl] = []
                if let items = try array(value, at: sysctlsPath()) {
                    sysctls.reserveCapacity(items.underestimatedCount)
                    for (index, item) in items.enumerated() {
                        func itemPath() -> FieldPath { sysctlsPath().index(index) }
                        var sysctl = Sysctl()
                        if let fields = try object(item, at: itemPath()) {
                            for field in fields {
                                switch self.field(field.key, PodField.sysctlField) {
                                case .name?: sysctl.name = try string(field.value, at: itemPath().key("name")) ?? ""
                                case .value?: sysctl.value = try string(field.value, at: itemPath().key("value")) ?? ""
                                default: continue
                                }
                            }
                        }
                        sysctls.append(sysctl)
                    }
                }
                context.sysctls = sysctls
            default: continue
            }
        }
    }

    // MARK: containers

    private func containers(_ value: Value?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> [Container] {
        guard let items = try array(value, at: path()) else { return [] }
        var result: [Container] = []
        result.reserveCapacity(items.underestimatedCount)
        for (index, item) in items.enumerated() {
            // Decoded where it is stored: a Container is large, and each copy of one retains all its fields. The
            // empty one appended is copied from one made once: `append(Container())` built each aside, copied it
            // in and destroyed it.
            result.append(emptyContainer)
            try container(item, into: &result[result.count - 1], at: path().index(index))
        }
        return result
    }

    private func container(_ value: Value, into container: inout Container,
                           at path: @autoclosure () -> FieldPath) throws(PodDecodeError) {
        guard let members = try object(value, at: path()) else { return }
        for member in members {
            let value = member.value
            switch field(member.key, PodField.containerField) {
            case .name?: container.name = try string(value, at: path().key("name")) ?? ""
            case .securityContext?:
                func contextPath() -> FieldPath { path().key("securityContext") }
                guard let fields = try object(value, at: contextPath()) else {
                    container.securityContext = nil
                    continue
                }
                container.securityContext = SecurityContext()
                try securityContext(fields, into: &container.securityContext!, at: contextPath())
            case .ports?: container.ports = try ports(value, at: path().key("ports"))
            case .livenessProbe?: container.livenessProbe = try handler(value, at: path().key("livenessProbe"))
            case .readinessProbe?: container.readinessProbe = try handler(value, at: path().key("readinessProbe"))
            case .startupProbe?: container.startupProbe = try handler(value, at: path().key("startupProbe"))
            case .lifecycle?:
                func lifecyclePath() -> FieldPath { path().key("lifecycle") }
                guard let fields = try object(value, at: lifecyclePath()) else {
                    container.lifecycle = nil
                    continue
                }
                var lifecycle = Lifecycle()
                for field in fields {
                    switch self.field(field.key, PodField.lifecycleField) {
                    case .postStart?: lifecycle.postStart = try handler(field.value, at: lifecyclePath().key("postStart"))
                    case .preStop?: lifecycle.preStop = try handler(field.value, at: lifecyclePath().key("preStop"))
                    default: continue
                    }
                }
                container.lifecycle = lifecycle
            default: continue
            }
        }
    }

    /// Decodes the members of a container's `securityContext` into `context` (a fresh one), in place as
    /// `podSecurityContext` does.
    private func securityContext(_ members: Source.Members, into context: inout SecurityContext,
                                 at path: @autoclosure () -> FieldPath) throws(PodDecodeError) {
        for member in members {
            let value = member.value
            switch field(member.key, PodField.securityContextField) {
            case .privileged?: context.privileged = try bool(value, at: path().key("privileged"))
            case .allowPrivilegeEscalation?:
                context.allowPrivilegeEscalation = try bool(value, at: path().key("allowPrivilegeEscalation"))
            case .runAsNonRoot?: context.runAsNonRoot = try bool(value, at: path().key("runAsNonRoot"))
            case .runAsUser?: context.runAsUser = try int64(value, at: path().key("runAsUser"))
            case .procMount?: context.procMount = try string(value, at: path().key("procMount"))
            case .capabilities?:
                func capabilitiesPath() -> FieldPath { path().key("capabilities") }
                guard let fields = try object(value, at: capabilitiesPath()) else {
                    context.capabilities = nil
                    continue
                }
                var capabilities = Capabilities()
                for field in fields {
                    switch self.field(field.key, PodField.capabilitiesField) {
                    case .add?: capabilities.add = try strings(field.value, at: capabilitiesPath().key("add"))
                    case .drop?: capabilities.drop = try strings(field.value, at: capabilitiesPath().key("drop"))
                    default: continue
                    }
                }
                context.capabilities = capabilities
            case .seLinuxOptions?: context.seLinuxOptions = try seLinuxOptions(value, at: path().key("seLinuxOptions"))
            case .seccompProfile?:
                context.seccompProfile = try typeOnly(value, at: path().key("seccompProfile")).map { SeccompProfile(type: $0) }
            case .appArmorProfile?:
                context.appArmorProfile = try typeOnly(value, at: path().key("appArmorProfile")).map { AppArmorProfile(type: $0) }
            case .windowsOptions?: context.windowsOptions = try windowsOptions(value, at: path().key("windowsOptions"))
            default: continue
            }
        }
    }

    private func ports(_ value: Value?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> [ContainerPort] {
        guard let items = try array(value, at: path()) else { return [] }
        let count = items.underestimatedCount
        var result: [ContainerPort] = []
        for (index, item) in items.enumerated() {
            func itemPath() -> FieldPath { path().index(index) }
            var port = ContainerPort()
            if let fields = try object(item, at: itemPath()) {
                for field in fields {
                    switch self.field(field.key, PodField.portField) {
                    case .hostPort?: port.hostPort = try int32(field.value, at: itemPath().key("hostPort")) ?? 0
                    case .containerPort?: port.containerPort = try int32(field.value, at: itemPath().key("containerPort")) ?? 0
                    default: continue
                    }
                }
            }
            // Only a port with a host port is kept (see `Container.ports`): no check reads the others, and most
            // containers' ports (container ports alone) then cost no array to make and free.
            if port.hostPort != 0 {
                if result.isEmpty { result.reserveCapacity(count - index) }
                result.append(port)
            }
        }
        return result
    }

    /// A probe or lifecycle handler: the hosts of its `httpGet` and `tcpSocket` actions.
    private func handler(_ value: Value?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> ProbeHandler? {
        guard let members = try object(value, at: path()) else { return nil }
        var handler = ProbeHandler()
        for member in members {
            switch field(member.key, PodField.handlerField) {
            case .httpGet?: handler.httpGetHost = try actionHost(member.value, at: path().key("httpGet"))
            case .tcpSocket?: handler.tcpSocketHost = try actionHost(member.value, at: path().key("tcpSocket"))
            default: continue
            }
        }
        return handler
    }

    private func actionHost(_ value: Value?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> String? {
        try onlyStringField("host", of: value, at: path())
    }

    /// An object of which only one string field is read: its value ("" when unset), or nil when the object
    /// itself is unset.
    private func onlyStringField(_ name: StaticString, of value: Value?,
                                 at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> String? {
        guard let members = try object(value, at: path()) else { return nil }
        var text = ""
        for member in members where isKey(member.key, name) {
            text = try string(member.value, at: path().key(name.description)) ?? ""
        }
        return text
    }

    // MARK: nested option types

    private func seLinuxOptions(_ value: Value?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> SELinuxOptions? {
        guard let members = try object(value, at: path()) else { return nil }
        var options = SELinuxOptions()
        for member in members {
            switch field(member.key, PodField.seLinuxOptionsField) {
            case .user?: options.user = try string(member.value, at: path().key("user")) ?? ""
            case .role?: options.role = try string(member.value, at: path().key("role")) ?? ""
            case .type?: options.type = try string(member.value, at: path().key("type")) ?? ""
            case .level?: options.level = try string(member.value, at: path().key("level")) ?? ""
            default: continue
            }
        }
        return options
    }

    /// A seccomp or AppArmor profile: its `type` ("" when unset), or nil when the profile itself is unset.
    private func typeOnly(_ value: Value?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> String? {
        try onlyStringField("type", of: value, at: path())
    }

    private func windowsOptions(_ value: Value?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> WindowsOptions? {
        guard let members = try object(value, at: path()) else { return nil }
        var options = WindowsOptions()
        for member in members where isKey(member.key, "hostProcess") {
            options.hostProcess = try bool(member.value, at: path().key("hostProcess"))
        }
        return options
    }

    // MARK: volumes

    private func volumes(_ value: Value?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> [Volume] {
        guard let items = try array(value, at: path()) else { return [] }
        let count = items.underestimatedCount
        var result: [Volume] = []
        for (index, item) in items.enumerated() {
            func itemPath() -> FieldPath { path().index(index) }
            var volume = Volume()
            // The name is type-checked where it occurs, and its string built only for a volume that is kept.
            var name: Value?
            if let fields = try object(item, at: itemPath()) {
                for field in fields {
                    if isKey(field.key, "name") {
                        try expectString(field.value, at: itemPath().key("name"))
                        name = field.value
                    } else if let kind = volumeSource(field.key) {
                        // A source is set when it is a non-null object, as a Go pointer field is.
                        volume.setSource(kind, isSet: try object(field.value, at: itemPath().key(kind.rawValue)) != nil)
                    }
                }
            }
            // Only a volume some check may flag is kept (see `PodSpec.volumes`): most pods then keep none, and
            // build no names and no array for them.
            if volume.mayBeFlagged {
                volume.name = try string(name, at: itemPath().key("name")) ?? ""
                if result.isEmpty { result.reserveCapacity(count - index) }
                result.append(volume)
            }
        }
        return result
    }

    // MARK: scalars

    @inline(__always)
    private func object(_ value: Value?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> Source.Members? {
        guard let value else { return nil }
        switch source.kind(value) {
        case .null: return nil
        case .object: return source.members(of: value)
        case let other: throw path().error("expected object, found \(other.name)")
        }
    }

    @inline(__always)
    private func array(_ value: Value?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> Source.Elements? {
        guard let value else { return nil }
        switch source.kind(value) {
        case .null: return nil
        case .array: return source.elements(of: value)
        case let other: throw path().error("expected array, found \(other.name)")
        }
    }

    /// `string(_:at:)`'s type check alone, for a string nothing reads.
    @inline(__always)
    private func expectString(_ value: Value?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) {
        guard let value else { return }
        switch source.kind(value) {
        case .null, .string: return
        case let other: throw path().error("expected string, found \(other.name)")
        }
    }

    @inline(__always)
    private func string(_ value: Value?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> String? {
        guard let value else { return nil }
        switch source.kind(value) {
        case .null: return nil
        case .string: return source.string(value)
        case let other: throw path().error("expected string, found \(other.name)")
        }
    }

    private func strings(_ value: Value?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> [String] {
        guard let items = try array(value, at: path()) else { return [] }
        let count = items.underestimatedCount
        var result: [String] = []
        for (index, item) in items.enumerated() {
            // Most containers drop exactly ["ALL"] (restricted requires it): recognized by its bytes, without
            // building the string, and handed out as one shared array, not one allocated each.
            if count == 1 && source.kind(item) == .string && source.string(item, equals: "ALL") { return onlyALL }
            // A null element decodes to the zero value in Go.
            let text = try string(item, at: path().index(index)) ?? ""
            if index == 0 { result.reserveCapacity(count) }
            result.append(text)
        }
        return result
    }

    @inline(__always)
    private func bool(_ value: Value?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> Bool? {
        guard let value else { return nil }
        switch source.kind(value) {
        case .null: return nil
        case .true: return true
        case .false: return false
        case let other: throw path().error("expected boolean, found \(other.name)")
        }
    }

    @inline(__always)
    private func int64(_ value: Value?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> Int64? {
        guard let value else { return nil }
        switch source.kind(value) {
        case .null: return nil
        case .number:
            guard let integer = source.int64(value) else {
                throw path().error("expected a 64-bit integer, found \(source.numberText(value))")
            }
            return integer
        case let other: throw path().error("expected integer, found \(other.name)")
        }
    }

    @inline(__always)
    private func int32(_ value: Value?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> Int32? {
        guard let value else { return nil }
        switch source.kind(value) {
        case .null: return nil
        case .number:
            guard let integer = source.int32(value) else {
                throw path().error("expected a 32-bit integer, found \(source.numberText(value))")
            }
            return integer
        case let other: throw path().error("expected integer, found \(other.name)")
        }
    }

    @inline(__always)
    private func volumeSource(_ key: Source.Key) -> VolumeSourceKind? { source.withUTF8(of: key, VolumeSourceKind.matching) }
}

/// An empty container, copied into the array where each container is decoded.
private let emptyContainer = Container()

/// `["ALL"]`, which `FieldDecoder.strings` hands out for every list that is exactly that.
private let onlyALL = ["ALL"]

/// What the field decoder reads JSON through. `kind(_:)` answers in `JSONDocument.Kind` for both sources.
protocol PodJSONSource {
    associatedtype Value
    associatedtype Key
    associatedtype Member: PodJSONMember where Member.Key == Key, Member.Value == Value
    associatedtype Members: Sequence where Members.Element == Member
    associatedtype Elements: Sequence where Elements.Element == Value

    func kind(_ value: Value) -> JSONDocument.Kind
    func members(of object: Value) -> Members
    func elements(of array: Value) -> Elements
    /// A string value's text.
    func string(_ value: Value) -> String
    /// Whether a string value's text is `literal`.
    func string(_ value: Value, equals literal: StaticString) -> Bool
    /// A number's text as written.
    func numberText(_ value: Value) -> String
    /// A number as `Int64(numberText(value))` reads it.
    func int64(_ value: Value) -> Int64?
    /// A number as `Int32(numberText(value))` reads it.
    func int32(_ value: Value) -> Int32?
    /// `body` applied to a key's UTF-8, escapes decoded.
    func withUTF8<Result>(of key: Key, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result
    /// A key's bytes in place when it holds no escapes, else nil (then read through `withUTF8`).
    func plainUTF8(of key: Key) -> UnsafeBufferPointer<UInt8>?
    func keyText(_ key: Key) -> String
}

protocol PodJSONMember {
    associatedtype Key
    associatedtype Value
    var key: Key { get }
    var value: Value { get }
}

extension JSONDocument.Member: PodJSONMember {}
extension JSONObject.Member: PodJSONMember {}

/// A parsed review: keys found by their bytes, nothing built but the strings the model keeps. Read through
/// a view of the document (see `Pod.init(document:metadata:spec:path:)`), so that no step retains its arrays.
struct DocumentSource: PodJSONSource {
    let view: JSONDocument.View

    func kind(_ value: JSONDocument.Index) -> JSONDocument.Kind { view.kind(value) }
    func members(of object: JSONDocument.Index) -> JSONDocument.Members { view.members(of: object) }
    func elements(of array: JSONDocument.Index) -> JSONDocument.Elements { view.elements(of: array) }
    func string(_ value: JSONDocument.Index) -> String { view.string(value) }
    // Inlined: the comparison is mostly a length test, and out of line it cost a call per `["ALL"]` test.
    @inline(__always)
    func string(_ value: JSONDocument.Index, equals literal: StaticString) -> Bool { view.string(value, equals: literal) }
    func numberText(_ value: JSONDocument.Index) -> String { view.numberText(value) }
    func int64(_ value: JSONDocument.Index) -> Int64? { view.int64(value) }
    func int32(_ value: JSONDocument.Index) -> Int32? { view.int32(value) }
    @inline(__always)
    func withUTF8<Result>(of key: JSONDocument.Index, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        view.withUTF8(key, body)
    }
    @inline(__always)
    func plainUTF8(of key: JSONDocument.Index) -> UnsafeBufferPointer<UInt8>? { view.plainUTF8(key) }
    func keyText(_ key: JSONDocument.Index) -> String { view.string(key) }
}

/// A tree (a manifest, a listed pod): read in place, only the parts the decoder visits.
struct TreeSource: PodJSONSource {
    func kind(_ value: JSONValue) -> JSONDocument.Kind {
        switch value {
        case .null: return .null
        case .bool(let flag): return flag ? .true : .false
        case .number: return .number
        case .string: return .string
        case .array: return .array
        case .object: return .object
        }
    }
    func members(of object: JSONValue) -> [JSONObject.Member] { object.objectValue?.members ?? [] }
    func elements(of array: JSONValue) -> [JSONValue] { array.arrayValue ?? [] }
    func string(_ value: JSONValue) -> String { value.stringValue ?? "" }
    func string(_ value: JSONValue, equals literal: StaticString) -> Bool {
        literal.withUTF8Buffer { value.stringValue?.utf8.elementsEqual($0) ?? false }
    }
    func numberText(_ value: JSONValue) -> String { value.numberValue?.text ?? "" }
    func int64(_ value: JSONValue) -> Int64? { Int64(numberText(value)) }
    func int32(_ value: JSONValue) -> Int32? { Int32(numberText(value)) }
    func withUTF8<Result>(of key: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        var key = key
        return key.withUTF8(body)
    }
    func plainUTF8(of key: String) -> UnsafeBufferPointer<UInt8>? { nil }
    func keyText(_ key: String) -> String { key }
}

/// The keys the decoder reads, wherever they occur (`name` is a container's, a volume's and a sysctl's).
/// Each case is spelled as its JSON key (the tests check the matchers below against `"\(case)"`).
enum PodField: Int, CaseIterable {
    case name, namespace, annotations
    case hostNetwork, hostPID, hostIPC, hostUsers, runtimeClassName, os, securityContext
    case containers, initContainers, ephemeralContainers, volumes
    case runAsNonRoot, runAsUser, seLinuxOptions, seccompProfile, appArmorProfile, windowsOptions, sysctls, value
    case ports, hostPort, containerPort
    case livenessProbe, readinessProbe, startupProbe, lifecycle, postStart, preStop, httpGet, tcpSocket, host
    case privileged, allowPrivilegeEscalation, procMount, capabilities, add, drop
    case user, role, type, level, hostProcess

    // The fields each kind of object holds, as matchers for `FieldDecoder.field(_:_:)`: a switch on the key's
    // length, then the one or few names of that length compared with it. `fieldsByObject` lists the same names
    // for the tests, which check each matcher against it and every other field's key.

    /// The fields of the Pod's `metadata` the decoder reads.
    @inline(__always)
    static func metadataField(_ key: UnsafeBufferPointer<UInt8>) -> PodField? {
        switch key.count {
        case 4: return key.isName("name") ? .name : nil
        case 9: return key.isName("namespace") ? .namespace : nil
        case 11: return key.isName("annotations") ? .annotations : nil
        default: return nil
        }
    }

    /// The fields of `spec` the decoder reads.
    @inline(__always)
    static func specField(_ key: UnsafeBufferPointer<UInt8>) -> PodField? {
        switch key.count {
        case 2: return key.isName("os") ? .os : nil
        case 7:
            if key.isName("hostPID") { return .hostPID }
            if key.isName("hostIPC") { return .hostIPC }
            if key.isName("volumes") { return .volumes }
            return nil
        case 9: return key.isName("hostUsers") ? .hostUsers : nil
        case 10: return key.isName("containers") ? .containers : nil
        case 11: return key.isName("hostNetwork") ? .hostNetwork : nil
        case 14: return key.isName("initContainers") ? .initContainers : nil
        case 15: return key.isName("securityContext") ? .securityContext : nil
        case 16: return key.isName("runtimeClassName") ? .runtimeClassName : nil
        case 19: return key.isName("ephemeralContainers") ? .ephemeralContainers : nil
        default: return nil
        }
    }

    /// The fields of `spec.securityContext` the decoder reads.
    @inline(__always)
    static func podSecurityContextField(_ key: UnsafeBufferPointer<UInt8>) -> PodField? {
        key.count == 7 ? (key.isName("sysctls") ? .sysctls : nil) : sharedSecurityContextField(key)
    }

    /// The fields both security contexts (the pod's and a container's) hold that the decoder reads.
    @inline(__always)
    static func sharedSecurityContextField(_ key: UnsafeBufferPointer<UInt8>) -> PodField? {
        switch key.count {
        case 9: return key.isName("runAsUser") ? .runAsUser : nil
        case 12: return key.isName("runAsNonRoot") ? .runAsNonRoot : nil
        case 14:
            if key.isName("seLinuxOptions") { return .seLinuxOptions }
            if key.isName("seccompProfile") { return .seccompProfile }
            if key.isName("windowsOptions") { return .windowsOptions }
            return nil
        case 15: return key.isName("appArmorProfile") ? .appArmorProfile : nil
        default: return nil
        }
    }

    /// The fields of a sysctl the decoder reads.
    @inline(__always)
    static func sysctlField(_ key: UnsafeBufferPointer<UInt8>) -> PodField? {
        switch key.count {
        case 4: return key.isName("name") ? .name : nil
        case 5: return key.isName("value") ? .value : nil
        default: return nil
        }
    }

    /// The fields of a container the decoder reads.
    @inline(__always)
    static func containerField(_ key: UnsafeBufferPointer<UInt8>) -> PodField? {
        switch key.count {
        case 4: return key.isName("name") ? .name : nil
        case 5: return key.isName("ports") ? .ports : nil
        case 9: return key.isName("lifecycle") ? .lifecycle : nil
        case 12: return key.isName("startupProbe") ? .startupProbe : nil
        case 13: return key.isName("livenessProbe") ? .livenessProbe : nil
        case 14: return key.isName("readinessProbe") ? .readinessProbe : nil
        case 15: return key.isName("securityContext") ? .securityContext : nil
        default: return nil
        }
    }

    /// The fields of a container's `lifecycle` the decoder reads.
    @inline(__always)
    static func lifecycleField(_ key: UnsafeBufferPointer<UInt8>) -> PodField? {
        switch key.count {
        case 7: return key.isName("preStop") ? .preStop : nil
        case 9: return key.isName("postStart") ? .postStart : nil
        default: return nil
        }
    }

    /// The fields of a container's `securityContext` the decoder reads.
    @inline(__always)
    static func securityContextField(_ key: UnsafeBufferPointer<UInt8>) -> PodField? {
        switch key.count {
        case 9 where key.isName("procMount"): return .procMount
        case 10: return key.isName("privileged") ? .privileged : nil
        case 12 where key.isName("capabilities"): return .capabilities
        case 24: return key.isName("allowPrivilegeEscalation") ? .allowPrivilegeEscalation : nil
        default: return sharedSecurityContextField(key)
        }
    }

    /// The fields of `capabilities` the decoder reads.
    @inline(__always)
    static func capabilitiesField(_ key: UnsafeBufferPointer<UInt8>) -> PodField? {
        switch key.count {
        case 3: return key.isName("add") ? .add : nil
        case 4: return key.isName("drop") ? .drop : nil
        default: return nil
        }
    }

    /// The fields of a container port the decoder reads.
    @inline(__always)
    static func portField(_ key: UnsafeBufferPointer<UInt8>) -> PodField? {
        switch key.count {
        case 8: return key.isName("hostPort") ? .hostPort : nil
        case 13: return key.isName("containerPort") ? .containerPort : nil
        default: return nil
        }
    }

    /// The fields of a probe or lifecycle handler the decoder reads.
    @inline(__always)
    static func handlerField(_ key: UnsafeBufferPointer<UInt8>) -> PodField? {
        switch key.count {
        case 7: return key.isName("httpGet") ? .httpGet : nil
        case 9: return key.isName("tcpSocket") ? .tcpSocket : nil
        default: return nil
        }
    }

    /// The fields of `seLinuxOptions` the decoder reads.
    @inline(__always)
    static func seLinuxOptionsField(_ key: UnsafeBufferPointer<UInt8>) -> PodField? {
        switch key.count {
        case 4:
            if key.isName("user") { return .user }
            if key.isName("role") { return .role }
            if key.isName("type") { return .`type` }
            return nil
        case 5: return key.isName("level") ? .level : nil
        default: return nil
        }
    }

    /// Each matcher with the fields it finds, for the tests.
    static var fieldsByObject: [(match: (UnsafeBufferPointer<UInt8>) -> PodField?, fields: [PodField])] {
        [
            (metadataField, [.name, .namespace, .annotations]),
            (specField, [.hostNetwork, .hostPID, .hostIPC, .hostUsers, .runtimeClassName, .os, .securityContext, .containers, .initContainers, .ephemeralContainers, .volumes]),
            (podSecurityContextField, [.runAsNonRoot, .runAsUser, .seLinuxOptions, .seccompProfile, .appArmorProfile, .windowsOptions, .sysctls]),
            (sysctlField, [.name, .value]),
            (containerField, [.name, .securityContext, .ports, .livenessProbe, .readinessProbe, .startupProbe, .lifecycle]),
            (lifecycleField, [.postStart, .preStop]),
            (securityContextField, [.privileged, .allowPrivilegeEscalation, .runAsNonRoot, .runAsUser, .procMount, .capabilities, .seLinuxOptions, .seccompProfile, .appArmorProfile, .windowsOptions]),
            (capabilitiesField, [.add, .drop]),
            (portField, [.hostPort, .containerPort]),
            (handlerField, [.httpGet, .tcpSocket]),
            (seLinuxOptionsField, [.user, .role, .type, .level]),
        ]
    }
}

extension PodMetadata {
    /// Whether an annotation key starts with one of `checkedAnnotationPrefixes`, the prefixes spelled out so that
    /// each is a length test and a few word comparisons where the key is read: most keys (restart times, scrape
    /// settings) are shorter than every prefix and are answered by one comparison. The tests check this against
    /// the list.
    @inline(__always)
    static func isCheckedAnnotation(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        guard key.count >= 40 else { return false }
        return key.hasPrefix("container.apparmor.security.beta.kubernetes.io/")
            || key.hasPrefix("seccomp.security.alpha.kubernetes.io/pod")
            || key.hasPrefix("container.seccomp.security.alpha.kubernetes.io/")
    }
}

extension VolumeSourceKind {
    /// The source a volume's key names, nil for its `name` and unknown keys: a switch on the key's length, then
    /// the few names of that length compared with it, as `PodField`'s matchers do (the tests check it against
    /// every case's raw value).
    @inline(__always)
    static func matching(_ key: UnsafeBufferPointer<UInt8>) -> VolumeSourceKind? {
        switch key.count {
        case 2: return key.isName("fc") ? .fc : nil
        case 3:
            if key.isName("nfs") { return .nfs }
            if key.isName("rbd") { return .rbd }
            if key.isName("csi") { return .csi }
            return nil
        case 5:
            if key.isName("iscsi") { return .iscsi }
            if key.isName("image") { return .image }
            return nil
        case 6:
            if key.isName("secret") { return .secret }
            if key.isName("cinder") { return .cinder }
            if key.isName("cephfs") { return .cephfs }
            return nil
        case 7:
            if key.isName("gitRepo") { return .gitRepo }
            if key.isName("flocker") { return .flocker }
            if key.isName("quobyte") { return .quobyte }
            if key.isName("scaleIO") { return .scaleIO }
            return nil
        case 8:
            if key.isName("hostPath") { return .hostPath }
            if key.isName("emptyDir") { return .emptyDir }
            return nil
        case 9:
            if key.isName("glusterfs") { return .glusterfs }
            if key.isName("azureFile") { return .azureFile }
            if key.isName("configMap") { return .configMap }
            if key.isName("azureDisk") { return .azureDisk }
            if key.isName("projected") { return .projected }
            if key.isName("storageos") { return .storageos }
            if key.isName("ephemeral") { return .ephemeral }
            return nil
        case 10: return key.isName("flexVolume") ? .flexVolume : nil
        case 11: return key.isName("downwardAPI") ? .downwardAPI : nil
        case 13: return key.isName("vsphereVolume") ? .vsphereVolume : nil
        case 14: return key.isName("portworxVolume") ? .portworxVolume : nil
        case 17: return key.isName("gcePersistentDisk") ? .gcePersistentDisk : nil
        case 20:
            if key.isName("awsElasticBlockStore") { return .awsElasticBlockStore }
            if key.isName("photonPersistentDisk") { return .photonPersistentDisk }
            return nil
        case 21: return key.isName("persistentVolumeClaim") ? .persistentVolumeClaim : nil
        default: return nil
        }
    }
}

/// A field path, rendered as the apiserver renders paths in errors: `spec.containers[0].name`.
struct FieldPath {
    let rendered: String

    func key(_ name: String) -> FieldPath { FieldPath(rendered: rendered.isEmpty ? name : "\(rendered).\(name)") }
    func index(_ position: Int) -> FieldPath { FieldPath(rendered: "\(rendered)[\(position)]") }
    func error(_ message: String) -> PodDecodeError { PodDecodeError(path: rendered, message: message) }
}
