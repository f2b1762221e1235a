// Tests of the libyaml wrapper: tree shape, scalar styles and types, marks, syntax errors with
// line:column, duplicate keys, several documents, aliases and size caps.

import Foundation
import Jobs
import XCTest

final class YAMLParserTests: XCTestCase {
    func testTreeMarksAndStyles() throws {
        let text = """
            a: 7
            b: "7"
            c: [1, 'x', 2.5]
            d:
              e: ~
              f: |
                line
            g: 1
            """
        let root = try XCTUnwrap(YAMLParser.parse(text, file: "t.yaml"))
        guard case .mapping(let pairs) = root.content else { return XCTFail("not a mapping") }
        XCTAssertEqual(pairs.map(\.key), ["a", "b", "c", "d", "g"])
        XCTAssertEqual(pairs[0].value.resolved, .int(7))
        XCTAssertEqual(pairs[1].value.resolved, .string("7"))
        XCTAssertEqual(pairs[1].value.mark, YAMLMark(line: 2, column: 4))
        XCTAssertEqual(pairs[2].keyMark, YAMLMark(line: 3, column: 1))
        guard case .sequence(let items) = pairs[2].value.content else { return XCTFail("not a sequence") }
        XCTAssertEqual(items.map(\.resolved), [.int(1), .string("x"), .float(2.5)])
        XCTAssertEqual(items[1].mark, YAMLMark(line: 3, column: 8))
        guard case .mapping(let inner) = pairs[3].value.content else { return XCTFail("not a mapping") }
        XCTAssertEqual(inner[0].value.resolved, .null)
        XCTAssertEqual(inner[1].value.resolved, .string("line\n"))
        XCTAssertEqual(inner[1].keyMark, YAMLMark(line: 6, column: 3))
    }

    func testExplicitTagsAndSchema() throws {
        let root = try XCTUnwrap(
            YAMLParser.parse("a: !!str 7\nb: !!int \"8\"\nc: off\nd: True\ne: 1e3\nf: .inf\ng: 0x10\n", file: "t"))
        guard case .mapping(let p) = root.content else { return XCTFail("not a mapping") }
        XCTAssertEqual(
            p.map(\.value.resolved),
            [.string("7"), .int(8), .string("off"), .bool(true), .float(1000), .float(.infinity), .string("0x10")])
    }

    func testEmptyDocument() throws {
        XCTAssertNil(try YAMLParser.parse("", file: "t"))
        XCTAssertNil(try YAMLParser.parse("# only a comment\n", file: "t"))
    }

    func testUnclosedQuote() {
        let d = diagnostics { try YAMLParser.parse("version: 1\nmodel: \"ucf101\nclass: Biking\n", file: "j.yaml") }
        XCTAssertEqual(d.count, 1)
        XCTAssertEqual(d.first?.file, "j.yaml")
        assertDiagnostic(d, 4, 1, "while scanning a quoted scalar")
        XCTAssertTrue(d.first?.hint.contains("2:8") ?? false)
    }

    func testBadIndentation() {
        let d = diagnostics { try YAMLParser.parse("version: 1\nmodel: ucf101\n  class: Biking\n", file: "j.yaml") }
        assertDiagnostic(d, 3, 8, "mapping values are not allowed")
        let d2 = diagnostics { try YAMLParser.parse("a:\n  b: 1\n c: 2\n", file: "j.yaml") }
        XCTAssertEqual(d2.count, 1)
        XCTAssertEqual(d2.first?.line, 3)
    }

    func testUnclosedFlowSequence() {
        let d = diagnostics { try YAMLParser.parse("seeds: [1, 2\nsteps: 5\n", file: "j.yaml") }
        XCTAssertEqual(d.count, 1)
        XCTAssertEqual(d.first?.line, 2)
        XCTAssertTrue(d.first?.message.contains("flow sequence") ?? false, "\(d)")
    }

    func testTabIndentation() {
        let d = diagnostics { try YAMLParser.parse("a:\n\tb: 1\n", file: "j.yaml") }
        assertDiagnostic(d, 2, 1, "cannot start any token")
    }

    func testDuplicateKeysReportedAtSecondOccurrence() {
        let d = diagnostics {
            try YAMLParser.parse("steps: 1\nfps: 2\nsteps: 3\ncache: {a: 1, a: 2}\n", file: "j.yaml")
        }
        XCTAssertEqual(d.count, 2)
        assertDiagnostic(d, 3, 1, "duplicate key 'steps'")
        XCTAssertTrue(d[0].hint.contains("line 1, column 1"))
        assertDiagnostic(d, 4, 15, "duplicate key 'a'")
    }

    func testSecondDocumentRejected() {
        let d = diagnostics { try YAMLParser.parse("a: 1\n---\nb: 2\n", file: "j.yaml") }
        assertDiagnostic(d, 2, 1, "second YAML document")
        XCTAssertNotNil(try YAMLParser.parse("---\na: 1\n...\n", file: "j.yaml"))
    }

    func testComplexKeyRejected() {
        let d = diagnostics { try YAMLParser.parse("? [a, b]\n: 1\n", file: "j.yaml") }
        assertDiagnostic(d, 1, 3, "key must be a scalar")
    }

    func testAliasesExpandAndUnknownAliasFails() throws {
        let root = try XCTUnwrap(YAMLParser.parse("a: &x [1, 2]\nb: *x\n", file: "t"))
        guard case .mapping(let p) = root.content, case .sequence(let b) = p[1].value.content else { return XCTFail() }
        XCTAssertEqual(b.count, 2)
        XCTAssertEqual(p[1].value.mark, YAMLMark(line: 2, column: 4))
        let d = diagnostics { try YAMLParser.parse("a: *nope\n", file: "t") }
        assertDiagnostic(d, 1, 4, "unknown alias")
    }

    func testAliasBombIsCapped() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 {
            let refs = Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ")
            text += "a\(i): &a\(i) [\(refs)]\n"
        }
        let d = diagnostics { try YAMLParser.parse(text, file: "bomb.yaml") }
        XCTAssertEqual(d.count, 1)
        XCTAssertTrue(d.first?.message.contains("more than \(YAMLParser.maxNodes) nodes") ?? false, "\(d)")
    }

    func testDeepNestingIsCapped() {
        let text = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        let d = diagnostics { try YAMLParser.parse(text, file: "deep.yaml") }
        XCTAssertTrue(d.first?.message.contains("nesting is deeper") ?? false, "\(d)")
    }

    func testLargeFileRejected() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jobs-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("big.yaml")
        try Data(repeating: 0x23, count: YAMLParser.maxBytes + 1).write(to: url)
        let d = diagnostics { try YAMLParser.parse(contentsOf: url, file: "big.yaml") }
        XCTAssertEqual(d.first?.line, 0)
        XCTAssertTrue(d.first?.message.contains("larger than") ?? false)
        XCTAssertTrue(d.first?.description.hasPrefix("big.yaml: error: ") ?? false)
    }

    func testMissingFileIsUnreadable() {
        XCTAssertThrowsError(try YAMLParser.parse(contentsOf: URL(fileURLWithPath: "/nonexistent/x.yaml"))) { error in
            guard case JobError.unreadable(let path, _)? = error as? JobError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "/nonexistent/x.yaml")
        }
    }

    func testInvalidUTF8() {
        let sink = diagnostics { () -> YAMLNode? in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("utf-\(UUID()).yaml")
            try Data([0x61, 0x3A, 0x20, 0x0A, 0x62, 0x3A, 0x20, 0xFF, 0x0A]).write(to: dir)
            defer { try? FileManager.default.removeItem(at: dir) }
            return try YAMLParser.parse(contentsOf: dir, file: "u.yaml")
        }
        XCTAssertEqual(sink.first?.line, 2)
        XCTAssertEqual(sink.first?.hint, "save the file as UTF-8")
    }
}
