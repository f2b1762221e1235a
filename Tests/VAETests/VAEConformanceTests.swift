// Both VAE fixture suites through the conformance runners (the same code `skipdit conformance`
// runs): every case of each manifest must pass within tolerances_recommended.

import Conformance
import Foundation
import TensorCore
import TestSupport
import XCTest

final class VAEConformanceTests: XCTestCase {
    private func assertSuitePasses(
        _ suite: ConformanceSuite, options: ConformanceOptions = .init(), file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let directory = Fixtures.suite(suite.rawValue)
        let report = try suite.run(directory: directory, options: options)
        let manifest = try JSONSerialization.jsonObject(
            with: Data(contentsOf: directory.appendingPathComponent("manifest.json")))
        let cases = ((manifest as? [String: Any])?["cases"] as? [Any])?.count ?? -1
        XCTAssertEqual(report.cases.count, cases, "every manifest case ran", file: file, line: line)
        for c in report.cases {
            XCTAssertTrue(c.passed, c.line, file: file, line: line)
            XCTAssertGreaterThanOrEqual(
                c.checks.count, 4, "\(c.name) checks z, decoded and uint8", file: file, line: line)
            for check in c.checks where !check.passed {
                XCTFail(
                    "\(c.name): \(check.label) error \(check.maxError) > \(check.tolerance)", file: file, line: line)
            }
        }
    }

    func testDecoderSuite() throws { try assertSuitePasses(.vae) }

    func testTemporalDecoderSuite() throws { try assertSuitePasses(.vaeTemporal) }

    /// Both suites with the OpenBLAS engine too (the default picks oneDNN when it loads).
    func testSuitesWithOpenBLAS() throws {
        try assertSuitePasses(.vae, options: .init(backend: .openblas))
        try assertSuitePasses(.vaeTemporal, options: .init(backend: .openblas))
    }

    /// bf16 weights and activations within the manifests' half-precision bounds (decoded, uint8),
    /// where this CPU and oneDNN do bf16.
    func testSuitesInBF16() throws {
        guard (try? makeGEMMEngine(ComputeOptions(backend: .onednn, precision: .bf16))) != nil else {
            throw XCTSkip("no bf16 GEMM engine on this machine")
        }
        try assertSuitePasses(.vae, options: .init(backend: .onednn, precision: .bf16))
        try assertSuitePasses(.vaeTemporal, options: .init(backend: .onednn, precision: .bf16))
    }
}
