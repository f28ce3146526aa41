import XCTest
@testable import StrictJSON

/// `appendQuoted(_:to:suffixCount:)`: a string quoted in two parts is the string quoted whole, and a suffix's
/// quoted form copied after another string's open-quoted prefix is that string quoted.
final class JSONWriterSuffixTests: XCTestCase {
    func testSplitQuotingEqualsWholeQuoting() {
        var rng = JSONFuzzTests.SplitMix(state: 23)
        let pieces = ["x", "\"", "\\", "\n", "<", "&", "\u{2028}", "\u{2029}", "é", "€", "\u{01}", "pods ", "forbidden: "]
        for round in 0..<600 {
            let count = Int.random(in: 0..<120, using: &rng)
            let parts = (0..<count).map { _ in pieces.randomElement(using: &rng)! }
            let text = parts.joined()
            // A split between two pieces: a character boundary.
            let cut = Int.random(in: 0...count, using: &rng)
            let suffix = parts[cut...].joined()
            var whole: [UInt8] = []
            JSONWriter.appendQuoted(text, to: &whole)
            var split: [UInt8] = Array("head".utf8)
            if round % 2 == 0 { split.reserveCapacity(8 * text.utf8.count) }
            let suffixStart = JSONWriter.appendQuoted(text, to: &split, suffixCount: suffix.utf8.count)
            XCTAssertEqual(Array(split.dropFirst(4)), whole, text)
            var quotedSuffix: [UInt8] = []
            JSONWriter.appendQuoted(suffix, to: &quotedSuffix)
            XCTAssertEqual(Array(split[suffixStart...]), Array(quotedSuffix.dropFirst()), text)

            let otherPrefix = parts.shuffled(using: &rng).prefix(Int.random(in: 0...8, using: &rng)).joined()
            var copied: [UInt8] = []  // the other string's opening quote and prefix, then the copied suffix
            let otherSuffixStart = JSONWriter.appendQuoted(otherPrefix + suffix, to: &copied, suffixCount: suffix.utf8.count)
            copied.removeSubrange(otherSuffixStart...)
            copied += split[suffixStart...]
            var expected: [UInt8] = []
            JSONWriter.appendQuoted(otherPrefix + suffix, to: &expected)
            XCTAssertEqual(copied, expected, otherPrefix + suffix)
        }
    }
}
