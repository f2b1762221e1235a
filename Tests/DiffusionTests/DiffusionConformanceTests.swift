// The sampler arithmetic against the official code: the c2v "schedule" and "diffusion_step"
// cases of Tests/Fixtures/c2v/manifest.json (every set and entry the manifest lists).

import Conformance
import Diffusion
import TestSupport
import XCTest

final class DiffusionConformanceTests: XCTestCase {
    private func assertKindPasses(_ kind: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let report = try ConformanceSuite.c2v.run(directory: Fixtures.suite("c2v"), options: .init(kinds: [kind]))
        XCTAssertFalse(report.cases.isEmpty, "manifest has no \(kind) case", file: file, line: line)
        for c in report.cases {
            XCTAssertTrue(c.passed, c.line, file: file, line: line)
            for check in c.checks where !check.passed {
                XCTFail(
                    "\(c.name): \(check.label) error \(check.maxError) > \(check.tolerance)", file: file, line: line)
            }
        }
    }

    func testSchedulesMatchOfficialRespacing() throws { try assertKindPasses("schedule") }

    func testSingleSamplerStepsMatchOfficial() throws { try assertKindPasses("diffusion_step") }

    func testRespacingKeepsThe499Trap() throws {
        // n = 23: the float64-accumulated midpoint lands below .5, so 499 is kept (spec §6.2).
        XCTAssertTrue(try Respacing.timesteps(count: 23).contains(499))
        XCTAssertThrowsError(try Respacing.timesteps(count: 0))
        XCTAssertThrowsError(try Respacing.timesteps(count: 1001))
    }

    func testNoiseIsReproducibleAndIndependentOfOrder() {
        let g = GaussianNoise(seed: 42)
        let a = g.tensor(shape: [3, 5, 7], stream: 9)
        let b = g.tensor(shape: [3, 5, 7], stream: 9)
        XCTAssertEqual(a.scalars, b.scalars)
        XCTAssertNotEqual(a.scalars, g.tensor(shape: [3, 5, 7], stream: 10).scalars)
        XCTAssertNotEqual(a.scalars, GaussianNoise(seed: 43).tensor(shape: [3, 5, 7], stream: 9).scalars)
        // A longer draw starts with the same values: element i depends only on (seed, stream, i).
        XCTAssertEqual(Array(g.tensor(shape: [200], stream: 9).scalars.prefix(105)), a.scalars)
        // Moments of a large draw are those of N(0, 1) (n = 1e6: standard errors 0.001 and 0.0014).
        let big = g.tensor(shape: [1_000_000], stream: 1).scalars.map(Double.init)
        let mean = big.reduce(0, +) / Double(big.count)
        let variance = big.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(big.count)
        XCTAssertEqual(mean, 0, accuracy: 0.005)
        XCTAssertEqual(variance, 1, accuracy: 0.007)
    }
}
