import XCTest

final class KubernetesClientTestsPlaceholder: XCTestCase {}
