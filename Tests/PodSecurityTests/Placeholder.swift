import XCTest

final class PodSecurityTestsPlaceholder: XCTestCase {}
