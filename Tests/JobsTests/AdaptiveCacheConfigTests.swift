// Tests of the adaptive Skip-Cache settings in jobs and model defaults: the forms, which policy a
// partial override keeps, the errors at line:column, a target PSNR resolved through a model's
// calibration file (the JSON lines of `skipdit bench cache --json`), and the result record's form.

import Foundation
import Jobs
import XCTest

final class AdaptiveCacheConfigTests: XCTestCase {
    private func job(_ cache: String, model: String = "ucf101") -> String {
        "version: 1\nmodel: \(model)\n" + (model == "t2v" ? "prompt: p\n" : "class: 1\n") + "cache: \(cache)\n"
    }

    func testAdaptiveFormsAndWhatAPartialOverrideKeeps() throws {
        let adaptive = try XCTUnwrap(try validate(job("{ policy: adaptive, threshold: 4, max_cached: 3 }")).cache)
        XCTAssertEqual(adaptive.adaptive, AdaptiveCacheSettings(threshold: 4, maxCached: 3))
        XCTAssertEqual([adaptive.start, adaptive.stop], [900, 50], "the window comes from the preset")
        XCTAssertEqual(adaptive.description, "adaptive-t4.0-c3-900-50")
        // An adaptive key alone means the adaptive policy; the cap defaults.
        let implied = try XCTUnwrap(try validate(job("{ threshold: 2.5, start: 1000 }")).cache)
        XCTAssertEqual(implied.adaptive, AdaptiveCacheSettings(threshold: 2.5))
        XCTAssertEqual(implied.start, 1000)
        // Text-to-video keeps its own window.
        let t2v = try XCTUnwrap(try validate(job("{ threshold: 1 }", model: "t2v")).cache)
        XCTAssertEqual([t2v.start, t2v.stop], [700, 50])
        // The fixed forms stay fixed, with the same descriptions (and plan digests) as before.
        XCTAssertEqual(try validate(job("N2-900-50")).cache, SkipCacheSettings(interval: 2, start: 900, stop: 50))
        XCTAssertEqual(try validate(job("N2-900-50")).cache?.description, "N2-900-50")
        XCTAssertNil(try validate(job("{ policy: fixed }")).cache?.adaptive)

        // Over an adaptive model default: a window override keeps the policy, an interval makes it fixed.
        let config = try DaemonConfig.parse(
            """
            spool: /s
            output: /o
            models:
              taichi:
                checkpoint: t.pt
                vae: v
                defaults: { cache: { policy: adaptive, threshold: 8, max_cached: 5 } }
            """, file: "c.yaml", directory: URL(fileURLWithPath: "/"))
        let base = try XCTUnwrap(config.model(named: "taichi")?.defaults.cache)
        XCTAssertEqual(base.adaptive, AdaptiveCacheSettings(threshold: 8, maxCached: 5))
        func plan(_ cache: String) throws -> SkipCacheSettings? {
            try JobFile.validate("version: 1\nmodel: taichi\ncache: \(cache)\n", file: "j.yaml", config: config).cache
        }
        XCTAssertEqual(try plan("{ start: 800 }")?.adaptive, AdaptiveCacheSettings(threshold: 8, maxCached: 5))
        XCTAssertEqual(try plan("{ start: 800 }")?.start, 800)
        XCTAssertEqual(try plan("on")?.adaptive?.threshold, 8)
        XCTAssertEqual(try plan("{ max_cached: 2 }")?.adaptive, AdaptiveCacheSettings(threshold: 8, maxCached: 2))
        XCTAssertEqual(try plan("3"), SkipCacheSettings(interval: 3, start: 900, stop: 50))
        XCTAssertEqual(try plan("{ policy: fixed }"), SkipCacheSettings(interval: 2, start: 900, stop: 50))
        XCTAssertNil(try plan("off"))
    }

    func testContradictionsAreErrorsAtTheirKeys() {
        assertDiagnostic(
            diagnostics { try validate(job("{ policy: adaptive, interval: 3, threshold: 1 }")) }, 4, 28,
            "'cache.interval' belongs to the fixed policy")
        assertDiagnostic(
            diagnostics { try validate(job("{ policy: fixed, max_cached: 3 }")) }, 4, 25,
            "'cache.max_cached' belongs to the adaptive policy")
        assertDiagnostic(
            diagnostics { try validate(job("{ threshold: 1, target_psnr: 30 }")) }, 4, 10,
            "give 'cache.threshold' or 'cache.target_psnr', not both")
        assertDiagnostic(
            diagnostics { try validate(job("{ policy: adaptive }")) }, 4, 8,
            "the adaptive Skip-Cache policy needs 'threshold' or 'target_psnr'")
        assertDiagnostic(
            diagnostics { try validate(job("{ policy: sometimes }")) }, 4, 18, "'cache.policy' must be")
        assertDiagnostic(
            diagnostics { try validate(job("{ threshold: -1 }")) }, 4, 21, "'cache.threshold'")
        assertDiagnostic(
            diagnostics { try validate(job("{ threshold: 1, max_cached: 0 }")) }, 4, 36, "'cache.max_cached'")
        assertDiagnostic(
            diagnostics { try validate(job("{ target_psnr: 30 }")) }, 4, 8,
            "cache target_psnr needs a calibration, and model 'ucf101' has none")
    }

    /// Bench rows: two step counts, thresholds 1, 2, 4, 8 whose PSNR falls with the threshold.
    private func writeCalibration(_ extra: String = "") throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("calibration-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var lines = [
            #"{"policy": "off", "interval": 1, "sampler": "ddim", "steps": 50, "flop_speedup": 1}"#,
            #"{"policy": "fixed", "interval": 3, "sampler": "ddim", "steps": 50, "psnr": 39.3, "flop_speedup": 1.98}"#,
        ]
        for (steps, base) in [(50, 48.0), (12, 40.0)] {
            for (k, threshold) in [1.0, 2.0, 4.0, 8.0].enumerated() {
                lines.append(
                    #"{"policy": "adaptive", "threshold": \#(threshold), "max_cached": 6, "start": 900, "sampler": "ddim", "steps": \#(steps), "psnr": \#(base - 4 * Double(k)), "flop_speedup": \#(1.3 + 0.3 * Double(k))}"#
                )
            }
        }
        let url = dir.appendingPathComponent("calibration.jsonl")
        try (lines.joined(separator: "\n") + "\n" + extra).write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    private func config(calibration: URL) throws -> DaemonConfig {
        try DaemonConfig.parse(
            """
            spool: /s
            output: /o
            models:
              demo:
                preset: demo
                num_classes: 7
                checkpoint: d.pt
                vae: v
                cache_calibration: \(calibration.lastPathComponent)
            """, file: "c.yaml", directory: calibration.deletingLastPathComponent())
    }

    func testATargetPSNRPicksTheFastestCalibratedThresholdThatReachesIt() throws {
        let config = try config(calibration: try writeCalibration())
        func threshold(_ extra: String) throws -> Double? {
            try JobFile.validate(
                "version: 1\nmodel: demo\nclass: 0\n\(extra)", file: "j.yaml", config: config
            ).cache?.adaptive?.threshold
        }
        // DDIM 50: PSNR 48, 44, 40, 36 at thresholds 1, 2, 4, 8.
        XCTAssertEqual(try threshold("steps: 50\ncache: { target_psnr: 40 }\n"), 4)
        XCTAssertEqual(try threshold("steps: 50\ncache: { target_psnr: 41 }\n"), 2)
        XCTAssertEqual(try threshold("steps: 50\ncache: { target_psnr: 20 }\n"), 8)
        // The nearest calibrated step count: 16 steps use the DDIM 12 rows (40, 36, 32, 28).
        XCTAssertEqual(try threshold("steps: 16\ncache: { target_psnr: 33 }\n"), 2)
        let unreachable = diagnostics {
            try JobFile.validate(
                "version: 1\nmodel: demo\nclass: 0\nsteps: 50\ncache: { target_psnr: 60 }\n", file: "j.yaml",
                config: config)
        }
        assertDiagnostic(unreachable, 5, 8, "no calibrated threshold reaches 60.0 dB at ddim 50 steps (the best gives 48.0 dB)")
        let ddpm = diagnostics {
            try JobFile.validate(
                "version: 1\nmodel: demo\nclass: 0\nsampler: ddpm\ncache: { target_psnr: 30 }\n", file: "j.yaml",
                config: config)
        }
        assertDiagnostic(ddpm, 5, 8, "no ddpm rows with the window from t = 900 (it has: ddim from t = 900)")
        let window = diagnostics {
            try JobFile.validate(
                "version: 1\nmodel: demo\nclass: 0\ncache: { target_psnr: 30, start: 1000 }\n", file: "j.yaml",
                config: config)
        }
        assertDiagnostic(window, 4, 8, "no ddim rows with the window from t = 1000")
        // The record shows the resolved threshold and the target it came from.
        let plan = try JobFile.validate(
            "version: 1\nmodel: demo\nclass: 0\nsteps: 50\ncache: { target_psnr: 40 }\n", file: "j.yaml",
            config: config)
        XCTAssertTrue(
            plan.recordValue.yaml.contains(
                "cache:\n  policy: adaptive\n  threshold: 4.0\n  target_psnr: 40.0\n  max_cached: 6\n  start: 900\n  stop: 50\n"
            ), plan.recordValue.yaml)
    }

    func testABrokenCalibrationFileIsAConfigErrorNamingItsLine() throws {
        let url = try writeCalibration(#"{"policy": "adaptive", "threshold": "high"}"# + "\n")
        let d = diagnostics { try config(calibration: url) }
        assertDiagnostic(d, 9, 24, "calibration.jsonl:11: bad \"threshold\"")
        let missing = url.deletingLastPathComponent().appendingPathComponent("none.jsonl")
        assertDiagnostic(diagnostics { try config(calibration: missing) }, 9, 24, "cannot read the cache calibration")
        let empty = url.deletingLastPathComponent().appendingPathComponent("empty.jsonl")
        try #"{"policy": "off"}"#.write(to: empty, atomically: true, encoding: .utf8)
        assertDiagnostic(
            diagnostics { try config(calibration: empty) }, 9, 24, "no row with \"policy\": \"adaptive\"")
    }
}
