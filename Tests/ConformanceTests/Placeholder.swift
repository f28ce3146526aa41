import XCTest

final class ConformanceTestsPlaceholder: XCTestCase {}
