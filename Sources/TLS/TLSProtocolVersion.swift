import COpenSSL

/// The TLS versions the project speaks. Nothing below TLS 1.2 is ever allowed.
public enum TLSProtocolVersion: Sendable, Hashable, CustomStringConvertible {
    case tls12
    case tls13

    /// Parses the spelling of kube-apiserver's `--tls-min-version`: `VersionTLS12`, `VersionTLS13`.
    /// (`VersionTLS10`/`VersionTLS11` are refused: this project never speaks them.)
    public init?(goName: String) {
        switch goName {
        case "VersionTLS12": self = .tls12
        case "VersionTLS13": self = .tls13
        default: return nil
        }
    }

    public var description: String { self == .tls12 ? "VersionTLS12" : "VersionTLS13" }

    var openSSLValue: Int32 { self == .tls12 ? TLS1_2_VERSION : TLS1_3_VERSION }
}

/// Cipher suite names as kube-apiserver's `--tls-cipher-suites` takes them (Go's IANA names), mapped to OpenSSL's.
enum TLSCipherSuites {
    /// Every TLS 1.2 (and older) suite Go knows, secure and insecure, IANA name → OpenSSL name.
    static let tls12: [String: String] = [
        "TLS_RSA_WITH_RC4_128_SHA": "RC4-SHA",
        "TLS_RSA_WITH_3DES_EDE_CBC_SHA": "DES-CBC3-SHA",
        "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
        "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
        "TLS_RSA_WITH_AES_128_CBC_SHA256": "AES128-SHA256",
        "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
        "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA": "ECDHE-ECDSA-RC4-SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
        "TLS_ECDHE_RSA_WITH_RC4_128_SHA": "ECDHE-RSA-RC4-SHA",
        "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA": "ECDHE-RSA-DES-CBC3-SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": "ECDHE-ECDSA-AES128-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256": "ECDHE-RSA-AES128-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
        // Go's older spellings of the two ChaCha20 suites, still accepted by component-base.
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": "ECDHE-ECDSA-CHACHA20-POLY1305",
    ]

    /// TLS 1.3 suites: OpenSSL uses the IANA names (Go does not let them be configured; we do).
    static let tls13: Set<String> = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]

    /// The TLS 1.2 list when none is configured: forward-secret AEAD suites only.
    static let defaultTLS12 = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

    /// Splits configured IANA names into an OpenSSL TLS 1.2 cipher list and a TLS 1.3 suite list (nil = default).
    static func resolve(_ names: [String]) throws(TLSError) -> (tls12: String?, tls13: String?) {
        var tls12Names: [String] = []
        var tls13Names: [String] = []
        for name in names {
            if let openSSLName = tls12[name] {
                if !tls12Names.contains(openSSLName) { tls12Names.append(openSSLName) }
            } else if tls13.contains(name) {
                if !tls13Names.contains(name) { tls13Names.append(name) }
            } else {
                throw TLSError(.configuration, "unknown TLS cipher suite \"\(name)\"")
            }
        }
        return (tls12Names.isEmpty ? nil : tls12Names.joined(separator: ":"),
                tls13Names.isEmpty ? nil : tls13Names.joined(separator: ":"))
    }
}
