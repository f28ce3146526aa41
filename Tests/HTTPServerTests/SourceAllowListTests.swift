import XCTest
@testable import HTTPServer

final class SourceAllowListTests: XCTestCase {
    func testParsesIPv4AndIPv6Networks() throws {
        let v4 = try XCTUnwrap(CIDR(parsing: "10.1.0.0/16"))
        XCTAssertTrue(v4.contains(try XCTUnwrap(CIDR.parseAddress("10.1.200.3")).0))
        XCTAssertFalse(v4.contains(try XCTUnwrap(CIDR.parseAddress("10.2.0.1")).0))
        XCTAssertFalse(v4.contains(try XCTUnwrap(CIDR.parseAddress("::1")).0))
        let v6 = try XCTUnwrap(CIDR(parsing: "fd00::/8"))
        XCTAssertTrue(v6.contains(try XCTUnwrap(CIDR.parseAddress("fd12:3456::1")).0))
        XCTAssertFalse(v6.contains(try XCTUnwrap(CIDR.parseAddress("fe80::1")).0))
        let host = try XCTUnwrap(CIDR(parsing: "192.168.1.7"))
        XCTAssertTrue(host.contains(try XCTUnwrap(CIDR.parseAddress("192.168.1.7")).0))
        XCTAssertFalse(host.contains(try XCTUnwrap(CIDR.parseAddress("192.168.1.8")).0))
        let odd = try XCTUnwrap(CIDR(parsing: "172.16.0.0/12"))
        XCTAssertTrue(odd.contains(try XCTUnwrap(CIDR.parseAddress("172.31.255.255")).0))
        XCTAssertFalse(odd.contains(try XCTUnwrap(CIDR.parseAddress("172.32.0.0")).0))
        XCTAssertTrue(try XCTUnwrap(CIDR(parsing: "0.0.0.0/0")).contains(try XCTUnwrap(CIDR.parseAddress("8.8.8.8")).0))
    }

    func testRejectsMalformedNetworks() {
        for text in ["", "10.0.0.0/33", "::/129", "10.0.0/8", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "host.example", "10.0.0.0/ 8"] {
            XCTAssertNil(CIDR(parsing: text), text)
        }
    }
}
