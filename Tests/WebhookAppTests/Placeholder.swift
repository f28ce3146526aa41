import XCTest

final class WebhookAppTestsPlaceholder: XCTestCase {}
