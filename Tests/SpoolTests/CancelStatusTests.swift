// CancelStatusTests: `skipdit cancel` of queued and running jobs, results, progress and the status snapshot.

import Foundation
import Jobs
import Spool
import XCTest

final class CancelStatusTests: XCTestCase {
    func testCancelQueuedJobMovesItToFailed() throws {
        let spool = try SpoolTest.spool(try SpoolTest.temporaryDirectory())
        try SpoolTest.submit(spool, "queued.yaml")
        try SpoolTest.submit(spool, "keep.yaml")
        guard case let .cancelled(directory) = try spool.cancel(jobID: "queued") else {
            return XCTFail("expected the queued job to be cancelled")
        }
        XCTAssertEqual(directory, spool.failed.appendingPathComponent("queued", isDirectory: true))
        let result = try String(contentsOf: directory.appendingPathComponent("result.yaml"), encoding: .utf8)
        XCTAssertTrue(result.contains("status: failed\nreason: cancelled\n"), result)
        XCTAssertEqual(SpoolTest.list(spool.incoming), ["keep.yaml"])
        XCTAssertEqual(try SpoolTest.jobNames(in: spool), ["keep.yaml", "queued.yaml"])
        XCTAssertThrowsError(try spool.cancel(jobID: "queued")) { error in
            XCTAssertEqual(error as? SpoolError, .jobNotFound(jobID: "queued", spool: spool.root.path))
        }
        XCTAssertThrowsError(try spool.cancel(jobID: "../etc")) { error in
            XCTAssertEqual(error as? SpoolError, .invalidJobID("../etc"))
        }
    }

    func testCancelRunningJobLeavesRequestForOwner() throws {
        let root = try SpoolTest.temporaryDirectory()
        let daemon = try SpoolTest.spool(root)
        try SpoolTest.submit(daemon, "running.yaml")
        let job = try XCTUnwrap(try daemon.claimNext(priority: { _ in 0 }))
        XCTAssertFalse(daemon.isCancelRequested(job))

        var cli = ProcessIdentity.current()
        cli.pid = getppid()  // `skipdit cancel` is another (live) process
        cli.startTime = 0
        let command = try SpoolTest.spool(root, identity: cli)
        XCTAssertEqual(try command.cancel(jobID: "running"), .requested(jobID: "running"))
        XCTAssertTrue(daemon.isCancelRequested(job))
        XCTAssertTrue(daemon.isCancelRequested(jobID: "running"))
        XCTAssertEqual(try command.status(priority: { _ in 0 }).running.map(\.cancelRequested), [true])

        // The worker sees it at its next step boundary and fails the job.
        let final = try daemon.finish(job, outcome: .failed(reason: "cancelled"))
        XCTAssertEqual(final, daemon.failed.appendingPathComponent("running", isDirectory: true))
        XCTAssertEqual(SpoolTest.list(final), ["cancel", "job.yaml", "lease.1", "result.yaml"])
    }

    func testCancelJobOfDeadOwnerFailsItAtOnce() throws {
        let root = try SpoolTest.temporaryDirectory()
        let dead = try SpoolTest.spool(root, identity: SpoolTest.deadLocalProcess)
        try SpoolTest.submit(dead, "orphan.yaml")
        _ = try XCTUnwrap(try dead.claimNext(priority: { _ in 0 }))
        let spool = try SpoolTest.spool(root)
        XCTAssertEqual(
            try spool.cancel(jobID: "orphan"),
            .cancelled(spool.failed.appendingPathComponent("orphan", isDirectory: true)))
        XCTAssertEqual(SpoolTest.list(spool.processing), [])
    }

    func testResultRecordAndStatus() throws {
        let spool = try SpoolTest.spool(try SpoolTest.temporaryDirectory())
        try SpoolTest.submit(spool, "a.yaml", priority: 1, age: 50)
        try SpoolTest.submit(spool, "b.yaml", priority: 0, age: 40)
        try SpoolTest.submit(spool, "c.yaml", priority: 0, age: 30)
        try SpoolTest.submit(spool, "d.yaml", priority: 9, age: 1)

        let d = try XCTUnwrap(try spool.claimNext(priority: SpoolTest.priority))
        XCTAssertEqual(d.id, "d")
        let record: YAMLValue = .mapping([
            ("seeds", .sequence([.int(1), .int(2)])),
            ("timings", .mapping([("denoise", .double(12.5)), ("decode", .double(3.0))])),
            ("outputs", .sequence([.mapping([("path", .string("out/d-1.mp4")), ("sha256", .string("ab\"c"))])])),
            ("status", .string("ignored: the spool's own fields win")),
        ])
        let doneDir = try spool.finish(d, outcome: .done, record: record)
        let text = try String(contentsOf: doneDir.appendingPathComponent("result.yaml"), encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("job: d\nsource: d.yaml\nstatus: done\nfinished: "), text)
        XCTAssertTrue(
            text.hasSuffix(
                "seeds:\n  - 1\n  - 2\ntimings:\n  denoise: 12.5\n  decode: 3.0\noutputs:\n"
                    + "  - path: out/d-1.mp4\n    sha256: ab\"c\n"), text)
        let parsed = try YAMLParser.parse(text, file: "result.yaml").map(YAMLValue.init)
        guard case let .mapping(fields)? = parsed else { return XCTFail("result.yaml is not a mapping") }
        XCTAssertEqual(
            fields.first { $0.0 == "outputs" }?.1,
            .sequence([.mapping([("path", .string("out/d-1.mp4")), ("sha256", .string("ab\"c"))])]))
        XCTAssertEqual(fields.filter { $0.0 == "status" }.map(\.1), [.string("done")])

        let a = try XCTUnwrap(try spool.claimNext(priority: SpoolTest.priority))
        try spool.writeProgress(JobProgress(phase: "denoise", step: 7, totalSteps: 50, etaSeconds: 86), for: a)
        let status = try spool.status(recent: 5, priority: SpoolTest.priority)
        XCTAssertEqual(status.queued.map(\.id), ["b", "c"])
        XCTAssertEqual(status.running.map(\.id), ["a"])
        XCTAssertEqual(status.running.first?.state, .ours)
        let progress = try XCTUnwrap(status.running.first?.progress)
        XCTAssertEqual([progress.phase, "\(progress.step)/\(progress.totalSteps)"], ["denoise", "7/50"])
        XCTAssertEqual(progress.etaSeconds, 86)
        XCTAssertEqual(status.finished.map(\.id), ["d"])
        XCTAssertEqual(status.finished.first?.outcome, .done)

        try spool.finish(a, outcome: .failed(reason: "out of memory\nat step 8"))
        let later = try spool.status(recent: 1, priority: SpoolTest.priority)
        XCTAssertEqual(later.finished.map(\.id), ["a"])
        XCTAssertEqual(later.finished.first?.outcome, .failed(reason: "out of memory\nat step 8"))
    }

    func testFinishNeverReplacesExistingResults() throws {
        let spool = try SpoolTest.spool(try SpoolTest.temporaryDirectory())
        try FileManager.default.createDirectory(
            at: spool.done.appendingPathComponent("x/keep"), withIntermediateDirectories: true)
        try SpoolTest.submit(spool, "x.yaml")
        let job = try XCTUnwrap(try spool.claimNext(priority: { _ in 0 }))
        XCTAssertEqual(job.id, "x-2")
        // Someone creates done/x-2 meanwhile: the finish takes the next free name.
        try FileManager.default.createDirectory(
            at: spool.done.appendingPathComponent("x-2/keep"), withIntermediateDirectories: true)
        XCTAssertEqual(try spool.finish(job, outcome: .done).lastPathComponent, "x-2-2")
        XCTAssertEqual(SpoolTest.list(spool.done), ["x", "x-2", "x-2-2"])
        XCTAssertEqual(SpoolTest.list(spool.done.appendingPathComponent("x-2")), ["keep"])
    }
}

final class QueueLimitTests: XCTestCase {
    func testOverflowBeyondTheLimitMovesTheNewestJobsToFailed() throws {
        let spool = try SpoolTest.spool(try SpoolTest.temporaryDirectory())
        for (i, name) in ["a.yaml", "b.yaml", "c.yaml", "d.yaml", "e.yaml"].enumerated() {
            try SpoolTest.submit(spool, name, age: Double(100 - 10 * i))  // a is the oldest
        }
        XCTAssertEqual(try spool.rejectOverflow(limit: 5), [])
        let rejected = try spool.rejectOverflow(limit: 3)
        XCTAssertEqual(rejected.map(\.lastPathComponent).sorted(), ["d", "e"])
        XCTAssertEqual(SpoolTest.list(spool.incoming), ["a.yaml", "b.yaml", "c.yaml"])
        for directory in rejected {
            XCTAssertEqual(directory.deletingLastPathComponent().lastPathComponent, "failed")
            let result = try String(contentsOf: directory.appendingPathComponent("result.yaml"), encoding: .utf8)
            XCTAssertTrue(result.contains("queue full: 5 jobs were waiting, limits.max_queued_jobs is 3"), result)
        }
        // Nothing is lost: every job file still exists somewhere in the spool.
        XCTAssertEqual(try SpoolTest.jobNames(in: spool), ["a.yaml", "b.yaml", "c.yaml", "d.yaml", "e.yaml"])
        XCTAssertEqual(try spool.rejectOverflow(limit: 3), [])
    }

    /// The limit check lists jobs without reading their priorities; the claim order afterwards still
    /// honours them (a regression: the check once cached priority 0 for every job).
    func testTheLimitCheckLeavesTheClaimOrderByPriority() throws {
        let spool = try SpoolTest.spool(try SpoolTest.temporaryDirectory())
        try SpoolTest.submit(spool, "old.yaml", age: 100)
        try SpoolTest.submit(spool, "urgent.yaml", priority: 5, age: 10)
        XCTAssertEqual(try spool.rejectOverflow(limit: 5), [])
        let order = try spool.queue(priority: SpoolTest.priority).ready
        XCTAssertEqual(order.map(\.file.lastPathComponent), ["urgent.yaml", "old.yaml"])
    }
}
