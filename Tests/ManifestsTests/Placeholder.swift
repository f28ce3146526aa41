import XCTest

final class ManifestsTestsPlaceholder: XCTestCase {}
