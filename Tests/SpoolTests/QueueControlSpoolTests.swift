// QueueControlSpoolTests: the spool side of the queue controls: hold and release (queued, running, the
// whole spool), retry (history, archived result, the crash-loop count starting over), priority
// overrides, dependencies (waiting, failed, missing, cycles) and transient-failure back-offs.

import Foundation
import Jobs
import Spool
import XCTest

final class QueueControlSpoolTests: XCTestCase {
    /// A spool as a command (another live process) sees it.
    private func command(_ root: URL) throws -> SpoolDirectory {
        var cli = ProcessIdentity.current()
        cli.pid = getppid()
        cli.startTime = 0
        return try SpoolTest.spool(root, identity: cli)
    }

    func testHoldOfAQueuedJobParksItHeldAndReleaseQueuesItAgain() throws {
        let root = try SpoolTest.temporaryDirectory()
        let spool = try SpoolTest.spool(root)
        try SpoolTest.submit(spool, "night.yaml", priority: 5, age: 60)
        try SpoolTest.submit(spool, "other.yaml")
        XCTAssertEqual(try command(root).hold(jobID: "night"), .held(jobID: "night"))
        let held = spool.processing.appendingPathComponent("night")
        XCTAssertEqual(
            SpoolTest.list(held), ["history.1.yaml", "hold", "job.log", "job.yaml", "lease.1"])
        XCTAssertEqual(try command(root).hold(jobID: "night"), .alreadyHeld(jobID: "night"))
        XCTAssertEqual(try spool.queue(priority: SpoolTest.priority).ready.map(\.id), ["other"])
        let status = try spool.status(priority: SpoolTest.priority)
        XCTAssertEqual(status.held.map(\.id), ["night"])
        XCTAssertEqual(status.queued.map(\.id), ["other"])

        XCTAssertTrue(try command(root).releaseHold(jobID: "night"))
        XCTAssertFalse(try command(root).releaseHold(jobID: "night"))
        let job = try XCTUnwrap(try spool.claimNext(priority: SpoolTest.priority))
        XCTAssertEqual(job.id, "night", "released, it keeps its priority and age")
        XCTAssertEqual(job.generation, 2)
        let events = try spool.history(in: job.directory).compactMap { $0["event"] }
        XCTAssertEqual(events, [.string("held"), .string("released")])
        let log = try String(contentsOf: job.directory.appendingPathComponent("job.log"), encoding: .utf8)
        XCTAssertTrue(log.contains("held while queued by skipdit hold"), log)
        XCTAssertTrue(log.contains("released by skipdit release"), log)
    }

    func testHoldOfARunningJobIsARequestItsOwnerSees() throws {
        let root = try SpoolTest.temporaryDirectory()
        let daemon = try SpoolTest.spool(root)
        try SpoolTest.submit(daemon, "running.yaml")
        let job = try XCTUnwrap(try daemon.claimNext(priority: SpoolTest.priority))
        XCTAssertEqual(try command(root).hold(jobID: "running"), .requested(jobID: "running"))
        XCTAssertTrue(daemon.isHoldRequested(job))
        XCTAssertEqual(try daemon.status(priority: SpoolTest.priority).running.map(\.holdRequested), [true])
        // The owner stops at its step boundary and gives the job back: it stays held, not queued.
        try daemon.writeCheckpoint(Data([1, 2, 3]), for: job)
        try daemon.release(job)
        XCTAssertNil(try daemon.claimNext(priority: SpoolTest.priority))
        XCTAssertEqual(try daemon.status(priority: SpoolTest.priority).held.map(\.id), ["running"])
        XCTAssertEqual(try daemon.counts().queued, 1)
        XCTAssertEqual(try daemon.counts().running, 0)
        XCTAssertTrue(try command(root).releaseHold(jobID: "running"))
        let resumed = try XCTUnwrap(try daemon.claimNext(priority: SpoolTest.priority))
        XCTAssertEqual(try daemon.readCheckpoint(for: resumed), Data([1, 2, 3]))
    }

    func testSpoolHoldStopsClaimingOnly() throws {
        let root = try SpoolTest.temporaryDirectory()
        let spool = try SpoolTest.spool(root)
        try SpoolTest.submit(spool, "a.yaml")
        XCTAssertTrue(try command(root).holdSpool())
        XCTAssertFalse(try command(root).holdSpool())
        XCTAssertNotNil(spool.spoolHold())
        XCTAssertNil(try spool.claimNext(priority: SpoolTest.priority))
        XCTAssertEqual(try spool.status(priority: SpoolTest.priority).queued.map(\.id), ["a"])
        XCTAssertTrue(try command(root).releaseSpool())
        XCTAssertNil(spool.spoolHold())
        XCTAssertEqual(try spool.claimNext(priority: SpoolTest.priority)?.id, "a")
    }

    func testRetryKeepsHistoryAndStartsTheCrashCountOver() throws {
        let root = try SpoolTest.temporaryDirectory()
        // Two crashed attempts: the cap of 2 fails the job.
        let first = try SpoolTest.spool(root, maxAttempts: 2, identity: SpoolTest.deadLocalProcess)
        try SpoolTest.submit(first, "loop.yaml")
        let crashed = try XCTUnwrap(try first.claimNext(priority: SpoolTest.priority))
        try first.writeCheckpoint(Data([7]), for: crashed)
        var second = SpoolTest.deadLocalProcess
        second.pid -= 1
        let other = try SpoolTest.spool(root, maxAttempts: 2, identity: second)
        _ = try XCTUnwrap(try other.claimNext(priority: SpoolTest.priority))
        let spool = try SpoolTest.spool(root, maxAttempts: 2)
        XCTAssertNil(try spool.claimNext(priority: SpoolTest.priority))
        XCTAssertEqual(SpoolTest.list(spool.failed), ["loop"])

        var checked: [URL] = []
        let moved = try command(root).retry(jobID: "loop") { checked.append($0) }
        XCTAssertEqual(checked.map(\.lastPathComponent), ["job.yaml"])
        XCTAssertEqual(moved, spool.processing.appendingPathComponent("loop", isDirectory: true))
        let names = SpoolTest.list(moved)
        XCTAssertTrue(names.contains("result.1.yaml"), "\(names)")
        XCTAssertFalse(names.contains("result.yaml"), "\(names)")
        XCTAssertTrue(names.contains("checkpoint.bin"), "a failed job keeps its checkpoint: \(names)")
        let lease = try String(contentsOf: moved.appendingPathComponent("lease.4"), encoding: .utf8)
        XCTAssertTrue(lease.contains("released: true\nrestart: true"), lease)
        let retried = try XCTUnwrap(try spool.history(in: moved).last)
        XCTAssertEqual(retried["event"], .string("retried"))
        XCTAssertEqual(retried["result"], .string("result.1.yaml"))

        // Resumed, not failed again for the old crashes.
        let job = try XCTUnwrap(try spool.claimNext(priority: SpoolTest.priority))
        XCTAssertEqual(job.generation, 5)
        XCTAssertEqual(try spool.readCheckpoint(for: job), Data([7]))

        // Only failed jobs are retried; a second retry of the same moment loses.
        XCTAssertThrowsError(try command(root).retry(jobID: "loop") { _ in }) { error in
            guard case .wrongState(_, "in processing/", "retry", _)? = error as? SpoolError else {
                return XCTFail("\(error)")
            }
        }
        try spool.finish(job, outcome: .done)
        XCTAssertThrowsError(try command(root).retry(jobID: "loop") { _ in })
        XCTAssertThrowsError(try command(root).retry(jobID: "nosuch") { _ in }) { error in
            XCTAssertEqual(error as? SpoolError, .jobNotFound(jobID: "nosuch", spool: spool.root.path))
        }
    }

    func testRetryRefusedByTheCheckLeavesTheJobInFailed() throws {
        let root = try SpoolTest.temporaryDirectory()
        let spool = try SpoolTest.spool(root)
        try SpoolTest.submit(spool, "bad.yaml")
        _ = try spool.cancel(jobID: "bad")
        struct Invalid: Error {}
        XCTAssertThrowsError(try command(root).retry(jobID: "bad") { _ in throw Invalid() }) { error in
            XCTAssertTrue(error is Invalid)
        }
        XCTAssertEqual(SpoolTest.list(spool.failed), ["bad"])
        XCTAssertEqual(
            SpoolTest.list(spool.failed.appendingPathComponent("bad")), ["job.yaml", "lease.1", "result.yaml"])
    }

    func testPriorityOverrideReordersTheQueueAndKeepsTheFileValue() throws {
        let root = try SpoolTest.temporaryDirectory()
        let spool = try SpoolTest.spool(root)
        try SpoolTest.submit(spool, "old.yaml", priority: 1, age: 100)
        try SpoolTest.submit(spool, "new.yaml", priority: 0)
        let change = try command(root).setPriority(jobID: "new", to: 9, filePriority: SpoolTest.priority)
        XCTAssertEqual(
            [change.jobID, "\(change.previous)", "\(change.file)", "\(change.priority)", "\(change.running)"],
            ["new", "0", "0", "9", "false"])
        let queued = try spool.status(priority: SpoolTest.priority).queued
        XCTAssertEqual(queued.map(\.id), ["new", "old"])
        XCTAssertEqual(queued.map(\.priorityOverridden), [true, false])
        let again = try command(root).setPriority(jobID: "new", to: -3, filePriority: SpoolTest.priority)
        XCTAssertEqual(again.previous, 9)
        XCTAssertEqual(try spool.claimNext(priority: SpoolTest.priority)?.id, "old")
        let job = try XCTUnwrap(try spool.claimNext(priority: SpoolTest.priority))
        let events = try spool.history(in: job.directory).filter { $0["event"] == .string("priority") }
        XCTAssertEqual(events.map { $0["job_file"] }, [.int(0), .int(0)])
        XCTAssertEqual(events.map { $0["to"] }, [.int(9), .int(-3)])
        XCTAssertThrowsError(try command(root).setPriority(jobID: "nosuch", to: 1, filePriority: SpoolTest.priority))
    }

    func testDependenciesWaitFailAndFindCycles() throws {
        let root = try SpoolTest.temporaryDirectory()
        let spool = try SpoolTest.spool(root)
        let lists: [String: [String]] = [
            "first": [], "second": ["first"], "orphan": ["ghost"], "x": ["y"], "y": ["x"], "late": ["broken"],
        ]
        for name in ["first", "second", "orphan", "x", "y", "late", "broken"] {
            try SpoolTest.submit(spool, "\(name).yaml", age: name == "first" ? 50 : 0)
        }
        _ = try spool.cancel(jobID: "broken")
        let after: (URL) -> [String] = { url in
            let id =
                url.lastPathComponent == "job.yaml"
                ? url.deletingLastPathComponent().lastPathComponent : SpoolLayoutStem.stem(url.lastPathComponent)
            return lists[id] ?? []
        }
        XCTAssertEqual(try spool.dependencyState(of: "second", after: ["first"], reading: after), .waiting(["first"]))
        XCTAssertEqual(
            try spool.dependencyState(of: "orphan", after: ["ghost"], reading: after),
            .broken("after: ghost does not exist in the spool (not queued, running, done or failed)"))
        XCTAssertEqual(
            try spool.dependencyState(of: "x", after: ["y"], reading: after), .broken("dependency cycle: x -> y -> x"))
        XCTAssertEqual(
            try spool.dependencyState(of: "late", after: ["broken"], reading: after),
            .broken("after: broken failed: cancelled"))
        let ready = try spool.queue(priority: SpoolTest.priority, after: after).ready.map(\.id)
        XCTAssertEqual(
            Set(ready), ["first", "orphan", "x", "y", "late"], "second waits; the broken ones are claimable")
        XCTAssertEqual(
            try spool.status(priority: SpoolTest.priority, after: after).queued.first { $0.id == "second" }?.waitingFor,
            ["first"])
        let first = try XCTUnwrap(
            try spool.claim(try XCTUnwrap(spool.queue(priority: SpoolTest.priority).ready.first { $0.id == "first" })))
        try spool.finish(first, outcome: .done)
        XCTAssertEqual(try spool.dependencyState(of: "second", after: ["first"], reading: after), .ready)
    }

    func testBackoffKeepsAJobOutOfTheQueueUntilItsTime() throws {
        let root = try SpoolTest.temporaryDirectory()
        let spool = try SpoolTest.spool(root)
        try SpoolTest.submit(spool, "disk.yaml")
        let job = try XCTUnwrap(try spool.claimNext(priority: SpoolTest.priority))
        try spool.postpone(job, Backoff(failures: 1, until: Date().addingTimeInterval(0.5), error: "ENOSPC"))
        XCTAssertNil(try spool.claimNext(priority: SpoolTest.priority))
        let queued = try spool.status(priority: SpoolTest.priority).queued
        XCTAssertEqual(queued.map(\.transientFailures), [1])
        XCTAssertNotNil(queued.first?.notBefore)
        Thread.sleep(forTimeInterval: 0.6)
        let again = try XCTUnwrap(try spool.claimNext(priority: SpoolTest.priority))
        XCTAssertEqual(spool.backoff(of: again)?.failures, 1)
        XCTAssertEqual(try spool.history(in: again.directory).last?["event"], .string("transient_failure"))
    }
}

/// The stem of a test job file name.
private enum SpoolLayoutStem {
    static func stem(_ name: String) -> String { name.hasSuffix(".yaml") ? String(name.dropLast(5)) : name }
}
