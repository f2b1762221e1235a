// CommandTests: `skipdit status` shows the queue, the running job with step k/N and ETA, and recent
// results; `skipdit cancel` moves a queued job to failed/ at once and a running one at its next step
// boundary, both with reason "cancelled".

import Foundation
import XCTest

final class CommandTests: DaemonTestCase {
    func testStatusShowsProgressAndCancelFailsQueuedAndRunningJobs() throws {
        let spool = try makeSpool("commands")
        // 40 steps of 0.3 s: the commands below finish well within the first video, also under a sanitizer.
        try spool.submit("long.yaml", TestSpool.job(seeds: [1, 2], extra: "steps: 40\n"))
        let daemon = try DaemonProcess(spool, arguments: ["--test-step-delay", "0.3"])
        try waitUntil("long at step 2") { (spool.progress("long")?.step ?? 0) >= 2 }
        try spool.submit("later.yaml", TestSpool.job(extra: "priority: 3\n"))

        let status = try spool.command(["status"])
        XCTAssertEqual(status.status, 0, status.output)
        XCTAssertTrue(status.output.contains("running (1)\n  long "), status.output)
        XCTAssertTrue(status.output.contains("denoising video 1/2, step "), status.output)
        XCTAssertTrue(status.output.contains("/40, ETA "), status.output)
        XCTAssertTrue(status.output.contains("queued (1)\n  later "), status.output)
        XCTAssertTrue(status.output.contains("priority 3"), status.output)

        let queued = try spool.command(["cancel", "later"])
        XCTAssertEqual(queued.status, 0, queued.output)
        XCTAssertTrue(queued.output.hasPrefix("cancelled later: "), queued.output)
        XCTAssertEqual(Records.value("reason", in: spool.result("failed", "later")), "cancelled")

        let running = try spool.command(["cancel", "long", "--wait", "\(20 * TestTiming.scale)"])
        XCTAssertEqual(running.status, 0, running.output)
        XCTAssertTrue(running.output.contains("cancel requested: long"), running.output)
        XCTAssertEqual(spool.list("failed"), ["later", "long"])
        let record = spool.result("failed", "long")
        XCTAssertEqual(Records.value("reason", in: record), "cancelled", record)
        XCTAssertTrue(record.contains("parameters:\n  job: long\n"), record)
        XCTAssertEqual(spool.outputs(), [], "a job cancelled in its first video has no outputs")

        let unknown = try spool.command(["cancel", "nosuch"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.output.contains("no queued or running job nosuch"), unknown.output)

        let after = try spool.command(["status"])
        XCTAssertTrue(after.output.contains("running (0)\n"), after.output)
        XCTAssertTrue(after.output.contains("failed  long: cancelled"), after.output)
        XCTAssertEqual(daemon.stop(), 0, daemon.logText)
    }
}
