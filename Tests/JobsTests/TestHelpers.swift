// Helpers for the Jobs tests: a test config, and expectations on the diagnostics of a failing call.

import Foundation
import Jobs
import XCTest

/// The repository root (Tests/JobsTests/ is two levels below it).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A config with a conditional (ucf101), an unconditional (sky), an index-only (demo) and a t2v model.
let testConfigText = """
    spool: spool
    output: /srv/videos
    models:
      ucf101:
        checkpoint: ucf101-skip.pt
        vae: vae
        classes: ucf101
      sky:
        checkpoint: sky.pt
        vae: vae
      tiny:
        preset: demo
        num_classes: 5
        checkpoint: tiny.pt
        vae: vae
      t2v:
        base: Latte-0
        checkpoint: Latte-skip.pt
    limits:
      max_steps: 300
      max_videos_per_job: 4
    """

func testConfig() throws -> DaemonConfig {
    try DaemonConfig.parse(testConfigText, file: "skipdit.yaml", directory: URL(fileURLWithPath: "/etc/skipdit"))
}

/// The diagnostics thrown by `body` (fails the test if it does not throw `JobError`).
func diagnostics<T>(_ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> [Diagnostic] {
    do {
        _ = try body()
        XCTFail("expected a JobError", file: file, line: line)
    } catch let error as JobError {
        return error.diagnostics
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
    return []
}

/// Asserts that exactly one diagnostic sits at line:column and that its message contains `text`.
func assertDiagnostic(
    _ list: [Diagnostic], _ line: Int, _ column: Int, _ text: String, file: StaticString = #filePath,
    line testLine: UInt = #line
) {
    let here = list.filter { $0.line == line && $0.column == column }
    XCTAssertEqual(
        here.count, 1, "diagnostics at \(line):\(column) in \(list.map(\.description))", file: file, line: testLine)
    if let d = here.first {
        XCTAssertTrue(d.message.contains(text), "'\(d.message)' lacks '\(text)'", file: file, line: testLine)
        XCTAssertFalse(d.hint.isEmpty, "no hint for '\(d.message)'", file: file, line: testLine)
    }
}

/// Validates job text against the test config.
func validate(_ text: String, file: String = "jobs/x.yaml") throws -> RenderPlan {
    try JobFile.validate(text, file: file, config: testConfig())
}
