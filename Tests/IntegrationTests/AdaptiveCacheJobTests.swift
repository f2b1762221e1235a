// AdaptiveCacheJobTests: a job rendered with the adaptive Skip-Cache policy through the daemon, on the
// shipped demo model: `skipdit status` shows its full and cached steps while it runs, a kill -9 in
// the middle resumes to latents bit-identical to an uninterrupted render (the policy's state is in
// the checkpoint), and the result record lists which steps ran full. A text-to-video render with the
// policy stopped at every step boundary resumes to the uninterrupted video.

import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

final class AdaptiveCacheJobTests: DaemonTestCase {
    /// Twenty DDIM steps; threshold 4 gives a mix of full and cached steps on every demo class.
    private func job(seeds: [Int]) -> String {
        "version: 1\nmodel: demo\nclass: left\nseeds: [\(seeds.map(String.init).joined(separator: ", "))]\n"
            + "steps: 20\ncache: { policy: adaptive, threshold: 4, max_cached: 4 }\n"
    }

    func testAnAdaptiveJobShowsItsStepsResumesBitIdenticallyAndRecordsItsFullSteps() throws {
        let spool = try makeSpool("adaptive")
        try spool.writeConfig(models: [TestSpool.demoModel("demo")])
        try spool.submit("crash.yaml", job(seeds: [5, 6]))
        let first = try DaemonProcess(
            spool, arguments: ["--test-step-delay", "0.2", "--dump-latents"], name: "first")
        // status shows the counts once a cached step ran.
        var shown = ""
        try waitUntil("cached steps in status") {
            guard let (status, text) = try? spool.command(["status", "--json"]), status == 0 else { return false }
            shown = text
            return text.range(of: #""cached_steps" *: *[1-9]"#, options: .regularExpression) != nil
        }
        XCTAssertTrue(shown.contains("\"full_steps\""), shown)
        let (_, table) = try spool.command(["status"])
        XCTAssertTrue(table.contains(" full, ") && table.contains(" cached)"), table)
        try waitUntil("step 9 of the second video") {
            guard let p = spool.progress("crash") else { return false }
            return p.phase == "denoising video 2/2" && p.step >= 9
        }
        first.signal(SIGKILL)
        XCTAssertEqual(first.waitForExit(timeout: 10), SIGKILL)

        let second = try DaemonProcess(spool, arguments: ["--dump-latents"], name: "second")
        try waitUntil("crash in done/", timeout: 120) { spool.list("done") == ["crash"] }
        try spool.submit("reference.yaml", job(seeds: [5, 6]))
        try waitUntil("reference in done/", timeout: 120) { spool.list("done") == ["crash", "reference"] }
        XCTAssertEqual(second.stop(), 0)
        try spool.assertSameRender("crash", "reference", seeds: [5, 6])

        // The record: per video, the full steps (1-based), as many as full_steps, the first two in
        // the window (t >= 900 at DDIM 20: steps 1 and 2), and some steps cached.
        let record = spool.result("done", "crash")
        XCTAssertTrue(record.contains("    policy: adaptive\n    threshold: 4.0\n    max_cached: 4\n"), record)
        let videos = record.components(separatedBy: "\n  - seed: ").dropFirst()
        XCTAssertEqual(videos.count, 2, record)
        for video in videos {
            let full = Int(video.components(separatedBy: "full_steps: ").dropFirst().first?.prefix { $0.isNumber } ?? "")
            let cached = Int(
                video.components(separatedBy: "cached_steps: ").dropFirst().first?.prefix { $0.isNumber } ?? "")
            let numbers = video.components(separatedBy: "full_step_numbers:\n").dropFirst().first?
                .split(separator: "\n").prefix { $0.hasPrefix("      - ") }.compactMap { Int($0.dropFirst(8)) } ?? []
            XCTAssertEqual(numbers.count, full, video)
            XCTAssertEqual(Array(numbers.prefix(2)), [1, 2], video)
            XCTAssertEqual(numbers, numbers.sorted(), video)
            XCTAssertGreaterThan(cached ?? 0, 0, video)
            XCTAssertEqual((full ?? 0) + (cached ?? 0), 20, video)
        }
    }

    func testATextToVideoRenderWithTheAdaptivePolicyResumesAtEveryStepBoundary() throws {
        let spool = try makeSpool("adaptive-t2v")
        try spool.writeConfig(models: [TestSpool.tinyTextToVideoModel("t2v")])
        let jobURL = spool.root.appendingPathComponent("kite.yaml")
        let steps = 8
        try Data(
            "version: 1\nmodel: t2v\nprompt: a red kite\nseed: 3\nsteps: \(steps)\ncache: { threshold: 2, max_cached: 2 }\n"
                .utf8
        ).write(to: jobURL)
        func render(_ output: URL, _ extra: [String] = []) throws -> (Int32, String) {
            try SkipditBinary.run(
                ["render", jobURL.path, "--config", spool.config.path, "--output", output.path] + extra)
        }
        let whole = spool.root.appendingPathComponent("whole")
        let (status, log) = try render(whole)
        XCTAssertEqual(status, 0, log)
        let expected = try sha256(whole.appendingPathComponent("kite-3.mp4"))
        let state = spool.root.appendingPathComponent("kite.state")
        for k in 1..<steps {
            let output = spool.root.appendingPathComponent("stop-\(k)")
            let (stopped, text) = try render(output, ["--state", state.path, "--stop-after-steps", String(k)])
            XCTAssertEqual(stopped, 75, "stop after step \(k): \(text)")
            let (again, more) = try render(output, ["--state", state.path])
            XCTAssertEqual(again, 0, more)
            XCTAssertEqual(try sha256(output.appendingPathComponent("kite-3.mp4")), expected, "stopped after \(k)")
        }
    }
}
