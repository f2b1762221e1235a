// Both VAE fixture suites through the conformance runners (the same code `skipdit conformance`
// runs): every case of each manifest must pass within tolerances_recommended.

import Conformance
import Foundation
import TestSupport
import XCTest

final class VAEConformanceTests: XCTestCase {
    private func assertSuitePasses(_ suite: ConformanceSuite, file: StaticString = #filePath, line: UInt = #line) throws {
        let directory = Fixtures.suite(suite.rawValue)
        let report = try suite.run(directory: directory)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("manifest.json")))
        let cases = ((manifest as? [String: Any])?["cases"] as? [Any])?.count ?? -1
        XCTAssertEqual(report.cases.count, cases, "every manifest case ran", file: file, line: line)
        for c in report.cases {
            XCTAssertTrue(c.passed, c.line, file: file, line: line)
            XCTAssertGreaterThanOrEqual(c.checks.count, 5, "\(c.name) checks z, decoded and uint8", file: file, line: line)
            for check in c.checks where !check.passed {
                XCTFail("\(c.name): \(check.label) error \(check.maxError) > \(check.tolerance)", file: file, line: line)
            }
        }
    }

    func testDecoderSuite() throws { try assertSuitePasses(.vae) }

    func testTemporalDecoderSuite() throws { try assertSuitePasses(.vaeTemporal) }
}
