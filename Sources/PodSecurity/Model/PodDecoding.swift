import StrictJSON

/// Decodes the JSON of a pod into the model, field by field, the way the apiserver's Go decoder reads it:
/// absent and `null` fields are unset, a repeated key's last value wins, unknown fields are ignored, and a
/// field of the wrong JSON type is an error naming its path. The path is only built when there is an error.
/// Keys are matched on `(length, text)`: comparing the length first spares most string comparisons.
struct FieldDecoder {
    private let prefix: String

    init(prefix: String) { self.prefix = prefix }

    /// A path below the decoder's prefix, e.g. `spec.template` + `metadata`.
    func child(_ key: String) -> FieldPath { FieldPath(rendered: prefix.isEmpty ? key : "\(prefix).\(key)") }

    // MARK: metadata

    func podMetadata(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> PodMetadata {
        var metadata = PodMetadata()
        guard let members = try object(value, at: path()) else { return metadata }
        for member in members {
            switch (member.key.utf8.count, member.key) {
            case (4, "name"): metadata.name = try string(member.value, at: path().key("name")) ?? ""
            case (9, "namespace"): metadata.namespace = try string(member.value, at: path().key("namespace")) ?? ""
            case (11, "annotations"):
                func annotationsPath() -> FieldPath { path().key("annotations") }
                guard let entries = try object(member.value, at: annotationsPath()) else {
                    metadata.annotations = [:]
                    continue
                }
                var annotations: [String: String] = [:]
                annotations.reserveCapacity(entries.count)
                for entry in entries {
                    annotations[entry.key] = try string(entry.value, at: annotationsPath().key(entry.key)) ?? ""
                }
                metadata.annotations = annotations
            default: continue
            }
        }
        return metadata
    }

    // MARK: spec

    func podSpec(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> PodSpec {
        var spec = PodSpec()
        guard let members = try object(value, at: path()) else { return spec }
        for member in members {
            let value = member.value
            switch (member.key.utf8.count, member.key) {
            case (11, "hostNetwork"): spec.hostNetwork = try bool(value, at: path().key("hostNetwork")) ?? false
            case (7, "hostPID"): spec.hostPID = try bool(value, at: path().key("hostPID")) ?? false
            case (7, "hostIPC"): spec.hostIPC = try bool(value, at: path().key("hostIPC")) ?? false
            case (9, "hostUsers"): spec.hostUsers = try bool(value, at: path().key("hostUsers"))
            case (16, "runtimeClassName"): spec.runtimeClassName = try string(value, at: path().key("runtimeClassName"))
            case (2, "os"):
                func osPath() -> FieldPath { path().key("os") }
                spec.osName = nil
                if let os = try object(value, at: osPath()) {
                    for field in os where field.key == "name" {
                        spec.osName = try string(field.value, at: osPath().key("name"))
                    }
                }
            case (15, "securityContext"): spec.securityContext = try podSecurityContext(value, at: path().key("securityContext"))
            case (10, "containers"): spec.containers = try containers(value, at: path().key("containers"))
            case (14, "initContainers"): spec.initContainers = try containers(value, at: path().key("initContainers"))
            case (19, "ephemeralContainers"): spec.ephemeralContainers = try containers(value, at: path().key("ephemeralContainers"))
            case (7, "volumes"): spec.volumes = try volumes(value, at: path().key("volumes"))
            default: continue
            }
        }
        return spec
    }

    private func podSecurityContext(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> PodSecurityContext? {
        guard let members = try object(value, at: path()) else { return nil }
        var context = PodSecurityContext()
        for member in members {
            let value = member.value
            switch (member.key.utf8.count, member.key) {
            case (12, "runAsNonRoot"): context.runAsNonRoot = try bool(value, at: path().key("runAsNonRoot"))
            case (9, "runAsUser"): context.runAsUser = try int64(value, at: path().key("runAsUser"))
            case (14, "seLinuxOptions"): context.seLinuxOptions = try seLinuxOptions(value, at: path().key("seLinuxOptions"))
            case (14, "seccompProfile"):
                context.seccompProfile = try typeOnly(value, at: path().key("seccompProfile")).map { SeccompProfile(type: $0) }
            case (15, "appArmorProfile"):
                context.appArmorProfile = try typeOnly(value, at: path().key("appArmorProfile")).map { AppArmorProfile(type: $0) }
            case (14, "windowsOptions"): context.windowsOptions = try windowsOptions(value, at: path().key("windowsOptions"))
            case (7, "sysctls"):
                func sysctlsPath() -> FieldPath { path().key("sysctls") }
                var sysctls: [Sysctl] = []
                if let items = try array(value, at: sysctlsPath()) {
                    sysctls.reserveCapacity(items.count)
                    for (index, item) in items.enumerated() {
                        func itemPath() -> FieldPath { sysctlsPath().index(index) }
                        var sysctl = Sysctl()
                        if let fields = try object(item, at: itemPath()) {
                            for field in fields {
                                switch (field.key.utf8.count, field.key) {
                                case (4, "name"): sysctl.name = try string(field.value, at: itemPath().key("name")) ?? ""
                                case (5, "value"): sysctl.value = try string(field.value, at: itemPath().key("value")) ?? ""
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
        return context
    }

    // MARK: containers

    private func containers(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> [Container] {
        guard let items = try array(value, at: path()) else { return [] }
        var result: [Container] = []
        result.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            result.append(try container(item, at: path().index(index)))
        }
        return result
    }

    private func container(_ value: JSONValue, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> Container {
        var container = Container()
        guard let members = try object(value, at: path()) else { return container }
        for member in members {
            let value = member.value
            switch (member.key.utf8.count, member.key) {
            case (4, "name"): container.name = try string(value, at: path().key("name")) ?? ""
            case (15, "securityContext"): container.securityContext = try securityContext(value, at: path().key("securityContext"))
            case (5, "ports"): container.ports = try ports(value, at: path().key("ports"))
            case (13, "livenessProbe"): container.livenessProbe = try handler(value, at: path().key("livenessProbe"))
            case (14, "readinessProbe"): container.readinessProbe = try handler(value, at: path().key("readinessProbe"))
            case (12, "startupProbe"): container.startupProbe = try handler(value, at: path().key("startupProbe"))
            case (9, "lifecycle"):
                func lifecyclePath() -> FieldPath { path().key("lifecycle") }
                guard let fields = try object(value, at: lifecyclePath()) else {
                    container.lifecycle = nil
                    continue
                }
                var lifecycle = Lifecycle()
                for field in fields {
                    switch (field.key.utf8.count, field.key) {
                    case (9, "postStart"): lifecycle.postStart = try handler(field.value, at: lifecyclePath().key("postStart"))
                    case (7, "preStop"): lifecycle.preStop = try handler(field.value, at: lifecyclePath().key("preStop"))
                    default: continue
                    }
                }
                container.lifecycle = lifecycle
            default: continue
            }
        }
        return container
    }

    private func securityContext(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> SecurityContext? {
        guard let members = try object(value, at: path()) else { return nil }
        var context = SecurityContext()
        for member in members {
            let value = member.value
            switch (member.key.utf8.count, member.key) {
            case (10, "privileged"): context.privileged = try bool(value, at: path().key("privileged"))
            case (24, "allowPrivilegeEscalation"):
                context.allowPrivilegeEscalation = try bool(value, at: path().key("allowPrivilegeEscalation"))
            case (12, "runAsNonRoot"): context.runAsNonRoot = try bool(value, at: path().key("runAsNonRoot"))
            case (9, "runAsUser"): context.runAsUser = try int64(value, at: path().key("runAsUser"))
            case (9, "procMount"): context.procMount = try string(value, at: path().key("procMount"))
            case (12, "capabilities"):
                func capabilitiesPath() -> FieldPath { path().key("capabilities") }
                guard let fields = try object(value, at: capabilitiesPath()) else {
                    context.capabilities = nil
                    continue
                }
                var capabilities = Capabilities()
                for field in fields {
                    switch (field.key.utf8.count, field.key) {
                    case (3, "add"): capabilities.add = try strings(field.value, at: capabilitiesPath().key("add"))
                    case (4, "drop"): capabilities.drop = try strings(field.value, at: capabilitiesPath().key("drop"))
                    default: continue
                    }
                }
                context.capabilities = capabilities
            case (14, "seLinuxOptions"): context.seLinuxOptions = try seLinuxOptions(value, at: path().key("seLinuxOptions"))
            case (14, "seccompProfile"):
                context.seccompProfile = try typeOnly(value, at: path().key("seccompProfile")).map { SeccompProfile(type: $0) }
            case (15, "appArmorProfile"):
                context.appArmorProfile = try typeOnly(value, at: path().key("appArmorProfile")).map { AppArmorProfile(type: $0) }
            case (14, "windowsOptions"): context.windowsOptions = try windowsOptions(value, at: path().key("windowsOptions"))
            default: continue
            }
        }
        return context
    }

    private func ports(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> [ContainerPort] {
        guard let items = try array(value, at: path()) else { return [] }
        var result: [ContainerPort] = []
        result.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            func itemPath() -> FieldPath { path().index(index) }
            var port = ContainerPort()
            if let fields = try object(item, at: itemPath()) {
                for field in fields {
                    switch (field.key.utf8.count, field.key) {
                    case (8, "hostPort"): port.hostPort = try int32(field.value, at: itemPath().key("hostPort")) ?? 0
                    case (13, "containerPort"): port.containerPort = try int32(field.value, at: itemPath().key("containerPort")) ?? 0
                    default: continue
                    }
                }
            }
            result.append(port)
        }
        return result
    }

    /// A probe or lifecycle handler: the hosts of its `httpGet` and `tcpSocket` actions.
    private func handler(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> ProbeHandler? {
        guard let members = try object(value, at: path()) else { return nil }
        var handler = ProbeHandler()
        for member in members {
            switch (member.key.utf8.count, member.key) {
            case (7, "httpGet"): handler.httpGetHost = try actionHost(member.value, at: path().key("httpGet"))
            case (9, "tcpSocket"): handler.tcpSocketHost = try actionHost(member.value, at: path().key("tcpSocket"))
            default: continue
            }
        }
        return handler
    }

    private func actionHost(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> String? {
        guard let fields = try object(value, at: path()) else { return nil }
        var host = ""
        for field in fields where field.key == "host" {
            host = try string(field.value, at: path().key("host")) ?? ""
        }
        return host
    }

    // MARK: nested option types

    private func seLinuxOptions(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> SELinuxOptions? {
        guard let members = try object(value, at: path()) else { return nil }
        var options = SELinuxOptions()
        for member in members {
            switch (member.key.utf8.count, member.key) {
            case (4, "user"): options.user = try string(member.value, at: path().key("user")) ?? ""
            case (4, "role"): options.role = try string(member.value, at: path().key("role")) ?? ""
            case (4, "type"): options.type = try string(member.value, at: path().key("type")) ?? ""
            case (5, "level"): options.level = try string(member.value, at: path().key("level")) ?? ""
            default: continue
            }
        }
        return options
    }

    /// A seccomp or AppArmor profile: its `type` ("" when unset), or nil when the profile itself is unset.
    private func typeOnly(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> String? {
        guard let members = try object(value, at: path()) else { return nil }
        var type = ""
        for member in members where member.key == "type" {
            type = try string(member.value, at: path().key("type")) ?? ""
        }
        return type
    }

    private func windowsOptions(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> WindowsOptions? {
        guard let members = try object(value, at: path()) else { return nil }
        var options = WindowsOptions()
        for member in members where member.key == "hostProcess" {
            options.hostProcess = try bool(member.value, at: path().key("hostProcess"))
        }
        return options
    }

    // MARK: volumes

    private func volumes(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> [Volume] {
        guard let items = try array(value, at: path()) else { return [] }
        var result: [Volume] = []
        result.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            func itemPath() -> FieldPath { path().index(index) }
            var volume = Volume()
            if let fields = try object(item, at: itemPath()) {
                for field in fields {
                    if field.key == "name" {
                        volume.name = try string(field.value, at: itemPath().key("name")) ?? ""
                    } else if let kind = VolumeSourceKind(rawValue: field.key) {
                        // A source is set when it is a non-null object, as a Go pointer field is.
                        let isSet = try object(field.value, at: itemPath().key(field.key)) != nil
                        volume.sources.removeAll { $0 == kind }
                        if isSet { volume.sources.append(kind) }
                    }
                }
            }
            result.append(volume)
        }
        return result
    }

    // MARK: scalars

    private func object(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> [JSONObject.Member]? {
        switch value {
        case nil, .null?: return nil
        case .object(let object)?: return object.members
        case let other?: throw path().error("expected object, found \(other.kindName)")
        }
    }

    private func array(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> [JSONValue]? {
        switch value {
        case nil, .null?: return nil
        case .array(let items)?: return items
        case let other?: throw path().error("expected array, found \(other.kindName)")
        }
    }

    private func string(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?: throw path().error("expected string, found \(other.kindName)")
        }
    }

    private func strings(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> [String] {
        guard let items = try array(value, at: path()) else { return [] }
        var result: [String] = []
        result.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            // A null element decodes to the zero value in Go.
            result.append(try string(item, at: path().index(index)) ?? "")
        }
        return result
    }

    private func bool(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> Bool? {
        switch value {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        case let other?: throw path().error("expected boolean, found \(other.kindName)")
        }
    }

    private func int64(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> Int64? {
        switch value {
        case nil, .null?: return nil
        case .number(let number)?:
            guard let integer = number.int64 else {
                throw path().error("expected a 64-bit integer, found \(number.text)")
            }
            return integer
        case let other?: throw path().error("expected integer, found \(other.kindName)")
        }
    }

    private func int32(_ value: JSONValue?, at path: @autoclosure () -> FieldPath) throws(PodDecodeError) -> Int32? {
        switch value {
        case nil, .null?: return nil
        case .number(let number)?:
            guard let integer = Int32(number.text) else {
                throw path().error("expected a 32-bit integer, found \(number.text)")
            }
            return integer
        case let other?: throw path().error("expected integer, found \(other.kindName)")
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
