import WebhookApp

/// `pod-security-webhook serve [flags]`: parses flags into `ServeOptions` and hands them to the application.
enum ServeCommand {
    static let usage = """
        usage: pod-security-webhook serve --tls-cert-file FILE --tls-private-key-file FILE [flags]
          --bind-address IP              address to listen on (default 0.0.0.0)
          --secure-port N                HTTPS port (default 8443)
          --tls-cert-file FILE           serving certificate (PEM; reloaded when it changes)
          --tls-private-key-file FILE    its private key (PEM)
          --tls-min-version V            VersionTLS12 (default) or VersionTLS13
          --tls-cipher-suites LIST       comma-separated IANA names, as kube-apiserver takes them
          --client-ca-file FILE          require client certificates signed by this CA (mTLS)
          --config FILE                  PodSecurityConfiguration (JSON or YAML): defaults and exemptions
          --kubeconfig FILE              API access for namespace labels (in-cluster config is used when present)
          --allowed-source-cidrs LIST    comma-separated CIDRs; other sources are closed before TLS
          --max-connections N            concurrent connection cap (default 1024)
          --event-loops N                threads serving connections, 1-64 (default: processors - 1, 1 to 4)
          --shutdown-grace-period S      seconds SIGTERM waits for in-flight requests (default 25)
          --log-requests BOOL            one JSON line per admission request (default true)
        """

    static func run(_ arguments: ArraySlice<String>) -> Int32 {
        switch parse(arguments) {
        case .help:
            Output.write(usage)
            return 0
        case .failure(let message):
            Output.error("serve: \(message)\n\n\(usage)")
            return 2
        case .options(let options):
            return WebhookServer.run(options)
        }
    }

    enum Parsed: Equatable {
        case options(ServeOptions)
        case help
        case failure(String)
    }

    /// Accepts `--flag value` and `--flag=value`.
    static func parse(_ arguments: ArraySlice<String>) -> Parsed {
        var options = ServeOptions()
        var remaining = arguments
        while let argument = remaining.popFirst() {
            if argument == "-h" || argument == "--help" { return .help }
            guard argument.hasPrefix("--") else { return .failure("unexpected argument \(argument.debugDescription)") }
            var name = argument
            var value: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            func takeValue() -> String? {
                if let value { return value }
                return remaining.popFirst()
            }
            guard let text = takeValue() else { return .failure("\(name) needs a value") }
            switch name {
            case "--bind-address": options.bindAddress = text
            case "--secure-port":
                guard let port = Int(text), (0...65_535).contains(port) else { return .failure("invalid --secure-port \(text.debugDescription)") }
                options.securePort = port
            case "--tls-cert-file": options.tlsCertFile = text
            case "--tls-private-key-file": options.tlsPrivateKeyFile = text
            case "--tls-min-version":
                guard text == "VersionTLS12" || text == "VersionTLS13" else {
                    return .failure("invalid --tls-min-version \(text.debugDescription): must be VersionTLS12 or VersionTLS13")
                }
                options.tlsMinVersion = text
            case "--tls-cipher-suites": options.tlsCipherSuites = list(text)
            case "--client-ca-file": options.clientCAFile = text
            case "--config": options.configFile = text
            case "--kubeconfig": options.kubeconfig = text
            case "--allowed-source-cidrs": options.allowedSourceCIDRs = list(text)
            case "--max-connections":
                guard let count = Int(text), count > 0 else { return .failure("invalid --max-connections \(text.debugDescription)") }
                options.maxConnections = count
            case "--event-loops":
                guard let count = Int(text), (1...64).contains(count) else {
                    return .failure("invalid --event-loops \(text.debugDescription): must be a whole number from 1 to 64")
                }
                options.eventLoops = count
            case "--shutdown-grace-period":
                guard let seconds = Double(text), seconds >= 0, seconds.isFinite else {
                    return .failure("invalid --shutdown-grace-period \(text.debugDescription)")
                }
                options.shutdownGracePeriodSeconds = seconds
            case "--log-requests":
                guard let flag = Bool(text) else { return .failure("invalid --log-requests \(text.debugDescription): must be true or false") }
                options.logRequests = flag
            default:
                return .failure("unknown flag \(name)")
            }
        }
        if options.tlsCertFile.isEmpty || options.tlsPrivateKeyFile.isEmpty {
            return .failure("--tls-cert-file and --tls-private-key-file are required (certs/make-certs.sh makes a pair)")
        }
        return .options(options)
    }

    private static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { String($0.trimmingSpaces()) }.filter { !$0.isEmpty }
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var slice = self
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        return slice
    }
}
