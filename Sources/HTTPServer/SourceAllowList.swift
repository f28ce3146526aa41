#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `fd00::/8`, or a single address).
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// 16 bytes; IPv4 networks are stored IPv4-mapped (`::ffff:a.b.c.d`) so one comparison serves both.
    let address: [UInt8]
    let prefixLength: Int
    public let description: String

    /// Parses `address/prefix` or a bare address; nil when either part is invalid.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, let (bytes, isV4) = CIDR.parseAddress(first) else { return nil }
        let maximum = isV4 ? 32 : 128
        var prefix = maximum
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].allSatisfy(\.isNumber), let value = Int(parts[1]), value <= maximum else { return nil }
            prefix = value
        }
        self.address = bytes
        self.prefixLength = isV4 ? prefix + 96 : prefix
        self.description = text
    }

    /// Whether `address` (16 bytes, IPv4 mapped) is inside this network.
    func contains(_ other: [UInt8]) -> Bool {
        var remaining = prefixLength
        var index = 0
        while remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address[index] & mask != other[index] & mask { return false }
            remaining -= bits
            index += 1
        }
        return true
    }

    /// 16 bytes (IPv4 mapped) and whether the text was IPv4.
    static func parseAddress(_ text: String) -> ([UInt8], Bool)? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            let value = UInt32(bigEndian: v4.s_addr)
            return ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF,
                     UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)], true)
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return (withUnsafeBytes(of: &v6) { Array($0) }, false)
        }
        return nil
    }

    /// The 16-byte (IPv4-mapped) form of a peer's socket address.
    static func bytes(of address: UnsafePointer<sockaddr_storage>) -> [UInt8]? {
        switch Int32(address.pointee.ss_family) {
        case AF_INET:
            return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                let value = UInt32(bigEndian: pointer.pointee.sin_addr.s_addr)
                return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF,
                        UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
            }
        case AF_INET6:
            return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                var copy = pointer.pointee.sin6_addr
                return withUnsafeBytes(of: &copy) { Array($0) }
            }
        default:
            return nil
        }
    }
}

extension HTTPServerConfiguration {
    /// Whether a peer may connect: always when `allowedSources` is empty, else when a network holds it.
    func admits(_ address: UnsafePointer<sockaddr_storage>) -> Bool {
        if allowedSources.isEmpty { return true }
        guard let bytes = CIDR.bytes(of: address) else { return false }
        return allowedSources.contains { $0.contains(bytes) }
    }
}
