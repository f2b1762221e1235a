// StatusReportTests: `skipdit status` text for a real spool snapshot: the running job with phase,
// step k/N and ETA, the queue in claim order (resumable jobs marked), and recent results newest first.

import Daemon
import Foundation
import Jobs
import Spool
import XCTest

final class StatusReportTests: XCTestCase {
    private func temporarySpool() throws -> SpoolDirectory {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("skipdit-status-\(UUID().uuidString)")
        return try SpoolDirectory(root: root, configuration: SpoolConfiguration(stabilityInterval: 0))
    }

    private func submit(_ spool: SpoolDirectory, _ name: String, priority: Int, age: TimeInterval) throws {
        let url = spool.incoming.appendingPathComponent(name)
        try Data("version: 1\nmodel: m\npriority: \(priority)\n".utf8).write(to: url)
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: url.path)
    }

    func testReportListsRunningQueuedAndRecentJobs() throws {
        let spool = try temporarySpool()
        defer { try? FileManager.default.removeItem(at: spool.root) }
        try submit(spool, "first.yaml", priority: 9, age: 500)
        try submit(spool, "bad.yaml", priority: 8, age: 400)
        try submit(spool, "ok.yaml", priority: 7, age: 300)
        try submit(spool, "running.yaml", priority: 6, age: 200)
        try submit(spool, "low.yaml", priority: 0, age: 90)
        try submit(spool, "high.yaml", priority: 2, age: 30)
        let priority = SpoolAccess.priority(ofJobAt:)

        let first = try XCTUnwrap(try spool.claimNext(priority: priority))
        XCTAssertEqual(first.id, "first")
        try spool.writeCheckpoint(Data("state".utf8), for: first)
        try spool.release(first)  // SIGTERM: it waits again, resumable
        let ready = try spool.queue(priority: priority).ready
        var claimed: [String: ClaimedJob] = [:]
        for id in ["bad", "ok", "running"] {
            let candidate = try XCTUnwrap(ready.first { $0.id == id }, id)
            claimed[id] = try XCTUnwrap(try spool.claim(candidate), id)
        }
        let failed = try XCTUnwrap(claimed["bad"])
        try spool.finish(failed, outcome: .failed(reason: "bad.yaml:2:8: error: unknown model 'm'\n  hint: …"))
        Thread.sleep(forTimeInterval: 0.01)
        try spool.finish(try XCTUnwrap(claimed["ok"]), outcome: .done)
        let running = try XCTUnwrap(claimed["running"])
        try spool.writeProgress(
            JobProgress(phase: "denoising video 1/2", step: 12, totalSteps: 50, etaSeconds: 190), for: running)

        let status = try spool.status(recent: 5, priority: priority)
        let text = StatusReport.text(status, spool: spool.root)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.first, "spool \(spool.root.path)")
        XCTAssertTrue(
            text.contains(
                "running (1)\n  running       denoising video 1/2, step 12/50, ETA 3m 10s  (pid \(getpid()) on "), text)
        let queued = try XCTUnwrap(lines.firstIndex(of: "queued (3)"), text)
        XCTAssertTrue(lines[queued + 1].hasPrefix("  first         priority 9, waiting "), text)
        XCTAssertTrue(lines[queued + 1].hasSuffix(", resumes from its checkpoint"), text)
        XCTAssertTrue(lines[queued + 2].hasPrefix("  high          priority 2, waiting "), text)
        XCTAssertTrue(lines[queued + 3].hasPrefix("  low           priority 0, waiting 1m 30s"), text)
        let recent = try XCTUnwrap(lines.firstIndex(of: "recent (2)"), text)
        XCTAssertTrue(lines[recent + 1].hasSuffix("  done    ok"), text)
        XCTAssertTrue(lines[recent + 2].hasSuffix("  failed  bad: bad.yaml:2:8: error: unknown model 'm' …"), text)
        XCTAssertEqual(lines.last, "")

        // With Skip-Cache, the progress file carries the video's full and cached steps, and status shows them.
        try spool.writeProgress(
            JobProgress(
                phase: "denoising video 1/2", step: 12, totalSteps: 50, etaSeconds: 190, fullSteps: 8, cachedSteps: 4),
            for: running)
        let cached = StatusReport.text(try spool.status(recent: 5, priority: priority), spool: spool.root)
        XCTAssertTrue(cached.contains("denoising video 1/2, step 12/50 (8 full, 4 cached), ETA 3m 10s"), cached)
    }
}
