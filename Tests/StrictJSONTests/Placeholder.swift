import XCTest

final class StrictJSONTestsPlaceholder: XCTestCase {}
