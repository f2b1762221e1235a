// Tests of output names: escapes (lexical, no symlinks), absolute paths, .mp4, placeholders and
// collisions between seeds.

import Jobs
import XCTest

final class OutputTemplateTests: XCTestCase {
    private func outputs(_ output: String, seeds: String = "[1, 2]") throws -> [String] {
        try validate("version: 1\nmodel: ucf101\nclass: Biking\nseeds: \(seeds)\noutput: \"\(output)\"\n").videos.map(
            \.relativePath)
    }

    func testEscapesAreRejected() {
        for bad in [
            "../x-{seed}.mp4", "/etc/x-{seed}.mp4", "a/../../x-{seed}.mp4", "./../{seed}.mp4",
            "a/./b/../../../{seed}.mp4",
        ] {
            let d = diagnostics { try outputs(bad) }
            XCTAssertEqual(d.count, 1, bad)
            XCTAssertEqual(d.first?.line, 5, bad)
            XCTAssertEqual(d.first?.column, 9, bad)
            XCTAssertTrue(
                d.first.map {
                    $0.message.contains("escapes the output directory") || $0.message.contains("absolute path")
                } ?? false,
                "\(bad): \(d)")
        }
    }

    func testNormalization() throws {
        XCTAssertEqual(try outputs("a/../b/./{class}-{seed}.mp4"), ["b/Biking-1.mp4", "b/Biking-2.mp4"])
        XCTAssertEqual(try outputs("runs//{job}/{model}-{index}.mp4"), ["runs/x/ucf101-0.mp4", "runs/x/ucf101-1.mp4"])
        XCTAssertEqual(OutputTemplate.normalizedRelativePath("a/b/../c"), "a/c")
        XCTAssertNil(OutputTemplate.normalizedRelativePath("a/../.."))
        XCTAssertNil(OutputTemplate.normalizedRelativePath("/a"))
    }

    func testMustBeMP4() {
        assertDiagnostic(diagnostics { try outputs("x-{seed}.avi") }, 5, 9, "must name an .mp4 file")
        assertDiagnostic(diagnostics { try outputs("dir/.mp4") }, 5, 9, "must name an .mp4 file")
        assertDiagnostic(diagnostics { try outputs("a/..") }, 5, 9, "must name an .mp4 file")
    }

    func testPlaceholders() {
        assertDiagnostic(
            diagnostics { try outputs("{sed}.mp4") }, 5, 9,
            "unknown placeholder '{sed}' in output template; did you mean 'seed'?")
        assertDiagnostic(diagnostics { try outputs("{seed.mp4") }, 5, 9, "unbalanced brace")
        assertDiagnostic(
            diagnostics { try validate("version: 1\nmodel: sky\noutput: \"{class}.mp4\"\n") }, 3, 9,
            "uses {class} but model 'sky' takes no class")
    }

    func testSeveralSeedsNeedDistinctNames() throws {
        let d = diagnostics { try outputs("biking.mp4") }
        assertDiagnostic(d, 5, 9, "seeds 1 and 2 would both write 'biking.mp4'")
        XCTAssertTrue(d.first?.hint.contains("{seed}") ?? false)
        XCTAssertEqual(try outputs("biking.mp4", seeds: "[3]"), ["biking.mp4"])
        XCTAssertEqual(try outputs("b-{index}.mp4"), ["b-0.mp4", "b-1.mp4"])
    }

    func testDefaultTemplate() throws {
        let plan = try validate("version: 1\nmodel: sky\n", file: "q/evening.yml")
        XCTAssertEqual(plan.videos.map(\.relativePath), ["evening-0.mp4"])
    }
}
