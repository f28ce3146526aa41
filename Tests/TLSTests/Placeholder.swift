import XCTest

final class TLSTestsPlaceholder: XCTestCase {}
