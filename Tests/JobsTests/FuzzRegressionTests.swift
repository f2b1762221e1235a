// Inputs found by fuzzing the YAML layer (scripts/fuzz, target yaml, which checks that what
// YAMLWriter writes of a parsed document reads back unchanged, as result records rely on).

import Jobs
import XCTest

final class YAMLFuzzRegressionTests: XCTestCase {
    /// The first key of a mapping inside a sequence lost a leading combining mark (U+0653): the
    /// compact `- key:` form dropped the indentation by Characters, and the space before the key
    /// and the mark form one Character.
    func testSequenceMappingKeyStartingWithACombiningMarkRoundTrips() throws {
        let value: YAMLValue = .mapping([
            ("k", .sequence([.mapping([("\u{0653}(1777", .string("demo")), ("b", .int(1))])])),
            ("l", .sequence([.mapping([("\u{0301}", .sequence([.mapping([("\u{20DD}x", .null)])]))])])),
        ])
        let text = YAMLWriter.emit(value)
        XCTAssertTrue(text.unicodeScalars.contains("\u{0653}"), text)
        let node = try XCTUnwrap(YAMLParser.parse(text, file: "record.yaml"), text)
        XCTAssertEqual(YAMLValue(node), value, text)
    }

    /// The fuzzer's input, reduced: a flow mapping in a sequence whose key starts with U+0653.
    func testFuzzerInputRoundTrips() throws {
        let source = "base: &b {k: [x: demo, \u{0653}(17str: demo, 24]}\nl: [*b, *b]\n"
        let node = try XCTUnwrap(YAMLParser.parse(source, file: "fuzz.yaml"))
        let value = YAMLValue(node)
        let back = try XCTUnwrap(YAMLParser.parse(YAMLWriter.emit(value), file: "emitted.yaml"))
        XCTAssertEqual(YAMLValue(back), value)
    }
}
