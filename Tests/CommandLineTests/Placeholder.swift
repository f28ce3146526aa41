import XCTest

final class CommandLineTestsPlaceholder: XCTestCase {}
