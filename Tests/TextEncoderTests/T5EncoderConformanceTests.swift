// The t2v fixture's text cases through the conformance runner: "tokenizer" (exact ids, masks and
// cleaned text) and "t5_encoder" (the tiny T5 v1.1 encoder's states for all positions, within the
// manifest's relative bound) on both GEMM backends.

import Conformance
import Foundation
import TensorCore
import TestSupport
import XCTest

final class T5EncoderConformanceTests: XCTestCase {
    private func assertPasses(kind: String, backend: Backend) throws {
        let report = try ConformanceSuite.t2v.run(
            directory: Fixtures.suite("t2v"), options: .init(backend: backend, kinds: [kind]))
        XCTAssertFalse(report.cases.isEmpty, "the t2v manifest has no \(kind) case")
        for c in report.cases {
            XCTAssertTrue(c.passed, "\(backend): \(c.line)")
            for check in c.checks where !check.passed {
                XCTFail("\(backend) \(c.name): \(check.label) error \(check.maxError) > \(check.tolerance)")
            }
        }
    }

    func testTokenizerCaseMatchesExactly() throws { try assertPasses(kind: "tokenizer", backend: .auto) }

    func testEncoderCaseWithinToleranceOnEveryBackend() throws {
        for backend in [Backend.openblas, .onednn] { try assertPasses(kind: "t5_encoder", backend: backend) }
    }
}
