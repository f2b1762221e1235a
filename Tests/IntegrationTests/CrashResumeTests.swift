// CrashResumeTests: a render killed with SIGKILL mid-way, or stopped with SIGTERM, resumes at the next
// start from its last checkpoint and ends with latents bit-identical to an uninterrupted render of the
// same job. The daemon's testing aids slow every sampler step (--test-step-delay) so the test can
// interrupt it at a known step, and dump the final latents (--dump-latents) for the comparison.

import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

final class CrashResumeTests: DaemonTestCase {
    /// Two seeds, six steps, a checkpoint every two steps (TestSpool.fastDaemon).
    let job = TestSpool.job(class: 2, seeds: [11, 12])
    let slow = ["--test-step-delay", "0.25", "--dump-latents"]

    func testKill9MidRenderThenRestartCompletesWithBitIdenticalLatents() throws {
        let spool = try makeSpool("kill9")
        try spool.submit("crash.yaml", job)
        let first = try DaemonProcess(spool, arguments: slow, name: "first")
        try waitUntil("step 3 of the second video") {
            guard let p = spool.progress("crash") else { return false }
            return p.phase == "denoising video 2/2" && p.step >= 3
        }
        first.signal(SIGKILL)
        XCTAssertEqual(first.waitForExit(timeout: 10), SIGKILL)
        // The job stays claimed by the dead process, with its checkpoint.
        XCTAssertEqual(spool.list("processing"), ["crash"])
        XCTAssertTrue(spool.exists("processing", "crash", "checkpoint.bin"))
        XCTAssertEqual(Records.value("released", in: spool.text("processing", "crash", "lease.1") ?? ""), "false")
        XCTAssertTrue(spool.outputs().contains("crash-11.mp4"), "the first video was finished before the kill")
        XCTAssertFalse(spool.outputs().contains("crash-12.mp4"))

        let second = try DaemonProcess(spool, arguments: ["--dump-latents"], name: "second")
        try waitUntil("crash in done/") { spool.list("done") == ["crash"] }
        let record = spool.result("done", "crash")
        XCTAssertEqual(Records.value("attempt", in: record), "2", record)
        // Killed at step 3 or later of the second video: resumed from a checkpoint (every 2 steps) after step 2.
        let resumedStep = record.components(separatedBy: "resumed_from:\n  video_index: 1\n  step: ").dropFirst().first
            .flatMap { Int($0.prefix { $0.isNumber }) }
        XCTAssertTrue([2, 4].contains(resumedStep ?? -1), record)
        XCTAssertTrue(second.logText.contains("took over crash"), second.logText)

        // The same job, never interrupted.
        try spool.submit("reference.yaml", job)
        try waitUntil("reference in done/") { spool.list("done") == ["crash", "reference"] }
        XCTAssertEqual(second.stop(), 0)
        try spool.assertSameRender("crash", "reference", seeds: [11, 12])
    }

    func testSigtermStopsAtAStepBoundaryReleasesTheJobAndItResumesAtTheNextStart() throws {
        let spool = try makeSpool("sigterm")
        try spool.submit("paused.yaml", job)
        let first = try DaemonProcess(spool, arguments: slow, name: "first")
        try waitUntil("step 3 of the first video") {
            guard let p = spool.progress("paused") else { return false }
            return p.phase == "denoising video 1/2" && p.step >= 3
        }
        let signalled = Date()
        first.signal(SIGTERM)
        let status = first.waitForExit(timeout: 5)
        let seconds = Date().timeIntervalSince(signalled)
        XCTAssertEqual(status, 0, first.logText)
        XCTAssertLessThan(seconds, 3, "SIGTERM must end the daemon within a few seconds")
        XCTAssertEqual(spool.list("processing"), ["paused"])
        let lease = spool.text("processing", "paused", "lease.1") ?? ""
        XCTAssertEqual(Records.value("released", in: lease), "true", lease)
        XCTAssertTrue(spool.exists("processing", "paused", "checkpoint.bin"))
        XCTAssertTrue(first.logText.contains("released at the step boundary"), first.logText)
        XCTAssertEqual(spool.outputs(), [])

        let second = try DaemonProcess(spool, arguments: ["--dump-latents"], name: "second")
        try waitUntil("paused in done/") { spool.list("done") == ["paused"] }
        let record = spool.result("done", "paused")
        XCTAssertEqual(Records.value("attempt", in: record), "2", record)
        XCTAssertTrue(record.contains("resumed_from:\n  video_index: 0\n  step: "), record)
        try spool.submit("reference.yaml", job)
        try waitUntil("reference in done/") { spool.list("done") == ["paused", "reference"] }
        XCTAssertEqual(second.stop(), 0)
        try spool.assertSameRender("paused", "reference", seeds: [11, 12])
    }
}
