// Tests of the YAML writer: quoting of ambiguous strings and a round trip through the parser.

import Jobs
import XCTest

final class YAMLWriterTests: XCTestCase {
    func testRoundTrip() throws {
        let tricky = [
            "", " lead", "trail ", "yes", "No", "off", "null", "~", "true", "7", "-3", "1e3", "0x10", ".inf", "a: b",
            "a #b", "#c", "- x", "[x]", "{x}", "x, y", "'q'", "\"dq\"", "line\nbreak", "tab\there", "ctrl\u{1}",
            "é ü ✓", "back\\slash", "key:", "@at", "%p", "*star", "&amp", "!bang", "|pipe", ">gt", "?q", "plain text",
        ]
        let value: YAMLValue = .mapping([
            ("strings", .sequence(tricky.map(YAMLValue.string))),
            (
                "numbers",
                .sequence([
                    .int(0), .int(-42), .int(Int.max), .double(7.0), .double(1e-5), .double(-2.5e300),
                    .double(.infinity),
                ])
            ),
            ("flags", .mapping([("on", .bool(true)), ("off", .bool(false)), ("none", .null)])),
            ("empty", .mapping([("list", .sequence([])), ("map", .mapping([]))])),
            (
                "nested",
                .sequence([
                    .mapping([("seed", .int(1)), ("output", .string("biking-1.mp4"))]), .sequence([.int(1), .int(2)]),
                ])
            ),
            ("yes", .string("key that needs quotes")),
        ])
        let text = YAMLWriter.emit(value)
        let node = try XCTUnwrap(YAMLParser.parse(text, file: "record.yaml"), text)
        XCTAssertEqual(YAMLValue(node), value, text)
    }

    func testPlainWhereSafe() {
        XCTAssertEqual(
            YAMLWriter.emit(.mapping([("job", .string("biking")), ("steps", .int(50)), ("g", .double(7))])),
            "job: biking\nsteps: 50\ng: 7.0\n")
        XCTAssertEqual(
            YAMLWriter.emit(.mapping([("v", .string("off")), ("w", .string("12"))])), "v: \"off\"\nw: \"12\"\n")
        XCTAssertEqual(YAMLWriter.emit(.sequence([.int(1), .sequence([])])), "- 1\n- []\n")
    }
}
