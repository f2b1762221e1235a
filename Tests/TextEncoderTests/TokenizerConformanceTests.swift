// The t2v fixture's "tokenizer" case through the conformance code: cleaned text, ids, masks and
// token counts of every prompt, and the raw-text edge cases, must all match exactly.

import Conformance
import Foundation
import TestSupport
import TextEncoder
import XCTest

final class TokenizerConformanceTests: XCTestCase {
    func testTokenizerCaseMatchesExactly() throws {
        let fixtures = try FixtureDirectory(Fixtures.suite("t2v"))
        let cases = try fixtures.manifest["cases"].array.filter { (try? $0["kind"].string) == "tokenizer" }
        XCTAssertFalse(cases.isEmpty, "the t2v manifest has no tokenizer case")
        for c in cases {
            let checks = try T2VTextCases.tokenizer(c, fixtures: fixtures)
            XCTAssertGreaterThan(checks.count, 20)
            for check in checks where !check.passed {
                XCTFail("\(check.label): error \(check.maxError) > \(check.tolerance)")
            }
        }
    }
}
