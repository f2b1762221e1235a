// The t2v fixture's "t5_encoder" case through the conformance code: the tiny T5 v1.1 encoder's
// states for all 120 positions of six prompts, within the manifest's relative bound, on every
// backend and with both weight residencies.

import Conformance
import Foundation
import TensorCore
import TestSupport
import TextEncoder
import XCTest

final class T5EncoderConformanceTests: XCTestCase {
    private func t5Cases() throws -> (FixtureDirectory, [ManifestNode]) {
        let fixtures = try FixtureDirectory(Fixtures.suite("t2v"))
        let cases = try fixtures.manifest["cases"].array.filter { (try? $0["kind"].string) == "t5_encoder" }
        XCTAssertFalse(cases.isEmpty, "the t2v manifest has no t5_encoder case")
        return (fixtures, cases)
    }

    func testEncoderCaseWithinTolerance() throws {
        let (fixtures, cases) = try t5Cases()
        for backend in [Backend.openblas, .onednn] {
            for c in cases {
                let checks = try T2VTextCases.t5Encoder(c, fixtures: fixtures, options: .init(backend: backend))
                XCTAssertEqual(checks.count, 7)
                for check in checks {
                    if check.label == "last_hidden_state" {
                        print("\(backend) t5 \(check.label): \(check.maxError) (tolerance \(check.tolerance))")
                    }
                    XCTAssertTrue(
                        check.passed, "\(backend) \(check.label): error \(check.maxError) > \(check.tolerance)")
                }
            }
        }
    }

    func testPromptEncoderMatchesOfficialEncodePrompt() throws {
        let fixtures = try FixtureDirectory(Fixtures.suite("t2v"))
        let cases = try fixtures.manifest["cases"].array.filter { (try? $0["kind"].string) == "cfg_forward" }
        XCTAssertFalse(cases.isEmpty, "the t2v manifest has no cfg_forward case")
        for c in cases {
            let checks = try T2VTextCases.cfgPromptEmbeddings(c, fixtures: fixtures)
            XCTAssertEqual(checks.count, 2)
            for check in checks {
                print("cfg \(check.label): \(check.maxError) (tolerance \(check.tolerance))")
                XCTAssertTrue(check.passed, "\(check.label): error \(check.maxError) > \(check.tolerance)")
            }
        }
    }
}
