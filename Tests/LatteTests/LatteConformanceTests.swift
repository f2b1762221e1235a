// The Latte transformers against the official code: every case of the c2v and t2v fixture
// manifests (forwards with intermediates, CFG, Skip-Cache sequences, sampling runs, and the
// samplers, text encoder and uint8 conversion around them).

import Conformance
import Diffusion
import Latte
import TestSupport
import XCTest

final class LatteConformanceTests: XCTestCase {
    private func assertPasses(
        _ suite: ConformanceSuite, kinds: Set<String>?, level: ToleranceLevel = .recommended,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let report = try suite.run(
            directory: Fixtures.suite(suite.rawValue), options: .init(tolerance: level, kinds: kinds))
        XCTAssertFalse(report.cases.isEmpty, file: file, line: line)
        if let kinds {
            XCTAssertEqual(Set(report.cases.map(\.kind)), kinds, "every kind has cases", file: file, line: line)
        }
        for c in report.cases {
            XCTAssertTrue(c.passed, c.line, file: file, line: line)
            for check in c.checks where !check.passed {
                XCTFail(
                    "\(c.name): \(check.label) error \(check.maxError) > \(check.tolerance)", file: file, line: line)
            }
        }
    }

    /// Every case of the c2v manifest, whatever its kind. We reproduce the float32 timestep
    /// sinusoid, so the manifest's tight tolerances apply.
    func testWholeClassToVideoSuiteAtTightTolerance() throws {
        try assertPasses(.c2v, kinds: nil, level: .tight)
    }

    /// Every case of the t2v manifest (tokenizer, T5, transformer forwards, CFG + DDIM step,
    /// Skip-Cache sequences, sampling runs).
    func testWholeTextToVideoSuite() throws {
        try assertPasses(.t2v, kinds: nil)
    }

    /// The production patterns the spec states (class-to-video §7, text-to-video §2.3).
    func testSkipCacheProductionPatterns() throws {
        func pattern(_ s: SkipCacheSchedule, _ t: [Int]) -> String {
            String(SkipCacheState.pattern(s, timesteps: t).map { $0 == .full ? "F" : "c" })
        }
        let ddim50 = try RespacedDiffusion(steps: 50).timestepMap.reversed().map { $0 }
        XCTAssertEqual(
            pattern(.classToVideo(interval: 2), ddim50), "FFFFFcFcFcFcFcFcFcFcFcFcFcFcFcFcFcFcFcFcFcFcFcFcFF")
        let ddpm250 = try RespacedDiffusion(steps: 250).timestepMap.reversed().map { $0 }
        for (n, full) in [(2, 143), (3, 108), (4, 90)] {
            XCTAssertEqual(
                pattern(.classToVideo(interval: n), ddpm250).filter { $0 == "F" }.count, full, "DDPM 250 N=\(n)")
        }
        let t2v50 = try DDIMScheduler(steps: 50).timesteps
        let p = pattern(.textToVideo(interval: 2, start: 700, stop: 50), t2v50)
        XCTAssertEqual(p.filter { $0 == "F" }.count, 33)
        XCTAssertEqual(Array(p)[47], "c", "the first step at t <= 50 (t = 40) is cached")
        XCTAssertEqual(pattern(.textToVideo(interval: 2), try DDIMScheduler(steps: 10).timesteps), "FFFcFcFcFc")
    }
}
