// `bench cache` on the tiny c2v fixture model: the rows of every policy (no cache, fixed N, adaptive
// thresholds at both ends), the JSON keys other tools read, the contract with the calibration reader
// (Jobs' CacheCalibration reads the bench's JSON lines), the quality-cliff rule, and the frontier SVG.

import Benchmarks
import Diffusion
import Foundation
import Jobs
import TensorCore
import TestSupport
import XCTest

#if canImport(FoundationXML)
    import FoundationXML
#endif

final class CacheQualityBenchmarkTests: XCTestCase {
    func testRowsJSONCalibrationAndPlotOfEveryPolicy() throws {
        let engine = try makeGEMMEngine(ComputeOptions(backend: .openblas, precision: .fp32, threads: 1))
        let bench = CacheQualityBenchmark(
            checkpoint: Fixtures.suite("c2v").appendingPathComponent("ckpt_cond.pt"),
            vae: Fixtures.suite("vae").appendingPathComponent("model/diffusers_safetensors"), heads: 2,
            classes: [1], seeds: [1, 2], method: .ddim, steps: 6, guidance: 4,
            settings: [
                .fixed(2, start: 900, stop: 50), .adaptive(threshold: 1e-9, maxCached: 2, start: 900, stop: 50),
                .adaptive(threshold: 1e9, maxCached: 2, start: 900, stop: 50),
            ])
        var reported: [CacheQualityResult] = []
        let rows = try bench.run(engine: engine) { reported.append($0) }
        XCTAssertEqual(reported, rows)
        XCTAssertEqual(rows.map(\.policy), [.off, .fixed, .adaptive, .adaptive])
        let (off, fixed, never, always) = (rows[0], rows[1], rows[2], rows[3])
        XCTAssertEqual(off.interval, 1)
        XCTAssertNil(off.psnr)
        XCTAssertEqual(off.flopSpeedup, 1)
        XCTAssertEqual(fixed.interval, 2)
        XCTAssertGreaterThan(fixed.flopSpeedup, 1)
        // Threshold ~0: every step full, the videos identical to the uncached ones.
        XCTAssertEqual(never.cachedSteps, 0)
        XCTAssertEqual(never.psnrs, [CacheQualityBenchmark.identicalPSNR, CacheQualityBenchmark.identicalPSNR])
        XCTAssertEqual(never.flopSpeedup, 1, accuracy: 1e-12)
        // Threshold ~∞: cached up to the cap, as fast as the fixed interval N = 3 inside the window.
        XCTAssertGreaterThan(always.cachedSteps, fixed.cachedSteps)
        XCTAssertGreaterThan(always.flopSpeedup, fixed.flopSpeedup)
        XCTAssertEqual(always.psnrs?.count, 2)
        XCTAssertEqual(always.fullSteps + always.cachedSteps, 6)

        // The JSON lines keep the keys of the fixed-only bench and name the policy.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let lines = try rows.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        for key in [
            "flop_speedup", "speedup", "psnr", "min_psnr", "ssim", "min_ssim", "full_steps", "cached_steps", "policy",
            "sampler", "steps",
        ] {
            XCTAssertTrue(lines[3].contains("\"\(key)\":"), "\(key) in \(lines[3])")
        }
        XCTAssertTrue(lines[1].contains("\"interval\":2") && lines[1].contains("\"policy\":\"fixed\""), lines[1])
        XCTAssertTrue(lines[3].contains("\"threshold\":1000000000") && lines[3].contains("\"max_cached\":2"), lines[3])

        // Saved, they are a calibration: a target the never-caching row alone reaches picks it.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cal-\(UUID().uuidString).jsonl")
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let calibration = try CacheCalibration(contentsOf: file)
        XCTAssertEqual(calibration.points.map(\.threshold), [1e-9, 1e9])
        let target = (always.psnr ?? 0) + 1
        XCTAssertEqual(try calibration.threshold(forTargetPSNR: target, sampler: "ddim", steps: 6, start: 900).get().threshold, 1e-9)

        // The plot: well-formed SVG with a dot per video of every cached row and both series named.
        let svg = FrontierPlot.svg(rows, title: "tiny <fixture>")
        XCTAssertTrue(svg.hasPrefix("<svg"), svg)
        XCTAssertTrue(svg.contains("tiny &lt;fixture&gt;") && svg.contains("fixed N") && svg.contains("adaptive"))
        XCTAssertEqual(svg.components(separatedBy: "r=\"1.8\"").count - 1, 3 * 2)
        XCTAssertTrue(XMLParser(data: Data(svg.utf8)).parse(), "the SVG is well-formed XML")
    }

    func testACliffIsAFallFarSteeperThanBetweenTheFixedIntervals() {
        func row(_ policy: CacheSetting.Policy, threshold: Double? = nil, speed: Double, min: Double)
            -> CacheQualityResult
        {
            let json = """
                {"policy": "\(policy.rawValue)", \(threshold.map { "\"threshold\": \($0)," } ?? "\"interval\": 2,")
                 "start": 900, "stop": 50, "full_steps": 0, "cached_steps": 0, "seconds": 1, "median_seconds": 1,
                 "speedup": \(speed), "median_speedup": \(speed), "flop_speedup": \(speed), "psnr": \(min),
                 "min_psnr": \(min), "videos": 1, "runs": 1, "threads": 1, "cpu": "c", "sampler": "ddim",
                 "steps": 50, "guidance": 7, "setting": "s"}
                """
            do { return try JSONDecoder().decode(CacheQualityResult.self, from: Data(json.utf8)) } catch {
                XCTFail("\(error)")
                fatalError("unreadable test row")
            }
        }
        // Fixed: 10 dB per 1x of speed-up. Adaptive: 45 → 38 over 0.2x (35 dB/x, below 40 dB: a cliff),
        // then 38 → 36 over 0.2x (10 dB/x: none); 60 → 50 is steep but far above visible loss.
        var rows = [
            row(.fixed, speed: 1.6, min: 44), row(.fixed, speed: 2.6, min: 34),
            row(.adaptive, threshold: 0.5, speed: 1.1, min: 60), row(.adaptive, threshold: 1, speed: 1.2, min: 50),
            row(.adaptive, threshold: 2, speed: 1.8, min: 45), row(.adaptive, threshold: 4, speed: 2.0, min: 38),
            row(.adaptive, threshold: 8, speed: 2.2, min: 36),
        ]
        CacheQualityBenchmark.markCliffs(&rows)
        XCTAssertEqual(rows.map { $0.cliff ?? false }, [false, false, false, false, false, true, false])
    }
}
