import XCTest

final class AdmissionControlTestsPlaceholder: XCTestCase {}
