// RecoveryTests: leases of dead owners (gone pid, reused pid, reboot, stale other host) are taken over
// exactly once with their checkpoint; live owners are left alone; released jobs resume at once.

import Foundation
import Jobs
import Spool
import XCTest

final class RecoveryTests: XCTestCase {
    /// Claims `name` as `owner` and writes a checkpoint, as a daemon that then dies would.
    private func claimAsDead(
        _ root: URL, owner: ProcessIdentity, name: String = "job.yaml", checkpoint: String? = "step 7"
    ) throws -> ClaimedJob {
        let dead = try SpoolTest.spool(root, identity: owner)
        try SpoolTest.submit(dead, name)
        let job = try XCTUnwrap(try dead.claimNext(priority: { _ in 0 }))
        if let checkpoint { try dead.writeCheckpoint(Data(checkpoint.utf8), for: job) }
        return job
    }

    func testDeadLocalPidIsRecoveredWithItsCheckpoint() throws {
        let root = try SpoolTest.temporaryDirectory()
        let old = try claimAsDead(root, owner: SpoolTest.deadLocalProcess)
        let spool = try SpoolTest.spool(root)
        let job = try XCTUnwrap(try spool.claimNext(priority: { _ in 0 }))
        XCTAssertEqual(job.id, old.id)
        XCTAssertEqual(job.directory, old.directory, "a job directory never moves while in processing/")
        XCTAssertEqual(job.generation, 2)
        XCTAssertTrue(job.isResumed)
        XCTAssertEqual(try spool.readCheckpoint(for: job).map { String(decoding: $0, as: UTF8.self) }, "step 7")
        XCTAssertEqual(SpoolTest.list(job.directory), ["checkpoint.bin", "job.yaml", "lease.1", "lease.2"])
        // The old owner has lost the lease and is told so.
        let oldSpool = try SpoolTest.spool(root, identity: SpoolTest.deadLocalProcess)
        XCTAssertThrowsError(try oldSpool.heartbeat(old)) { error in
            XCTAssertEqual(error as? SpoolError, .leaseLost(jobID: old.id, path: old.directory.path))
        }
        XCTAssertThrowsError(try oldSpool.writeCheckpoint(Data(), for: old))
        XCTAssertThrowsError(try oldSpool.finish(old, outcome: .done))
        XCTAssertNoThrow(try spool.heartbeat(job))
        XCTAssertEqual(try spool.finish(job, outcome: .done).lastPathComponent, "job")
    }

    func testReusedPidIsDead() throws {
        let root = try SpoolTest.temporaryDirectory()
        var reused = ProcessIdentity.current()
        reused.startTime += 1  // same pid, another process start: the pid was reused
        _ = try claimAsDead(root, owner: reused)
        XCTAssertEqual(try SpoolTest.spool(root).claimNext(priority: { _ in 0 })?.generation, 2)
    }

    func testRebootedHostIsDead() throws {
        let root = try SpoolTest.temporaryDirectory()
        var beforeReboot = ProcessIdentity.current()
        beforeReboot.bootID = "11111111-2222-3333-4444-555555555555"
        _ = try claimAsDead(root, owner: beforeReboot)
        XCTAssertEqual(try SpoolTest.spool(root).claimNext(priority: { _ in 0 })?.generation, 2)
    }

    func testLiveLocalOwnerIsLeftAlone() throws {
        let root = try SpoolTest.temporaryDirectory()
        var parent = ProcessIdentity.current()
        parent.pid = getppid()  // a live process on this host
        parent.startTime = 0  // unknown start time: trust the pid
        _ = try claimAsDead(root, owner: parent)
        let spool = try SpoolTest.spool(root)
        XCTAssertNil(try spool.claimNext(priority: { _ in 0 }))
        XCTAssertEqual(try spool.status(priority: { _ in 0 }).running.map(\.state), [.alive])
    }

    func testOtherHostIsJudgedByHeartbeat() throws {
        let root = try SpoolTest.temporaryDirectory()
        let old = try claimAsDead(root, owner: SpoolTest.otherHost)
        XCTAssertNil(try SpoolTest.spool(root, staleAfter: 30).claimNext(priority: { _ in 0 }), "fresh heartbeat")
        Thread.sleep(forTimeInterval: 0.3)
        let other = try SpoolTest.spool(root, identity: SpoolTest.otherHost)
        try other.heartbeat(old)
        XCTAssertNil(try SpoolTest.spool(root, staleAfter: 0.25).claimNext(priority: { _ in 0 }), "just beat")
        Thread.sleep(forTimeInterval: 0.3)
        let job = try XCTUnwrap(try SpoolTest.spool(root, staleAfter: 0.25).claimNext(priority: { _ in 0 }))
        XCTAssertEqual(job.generation, 2)
        XCTAssertThrowsError(try other.heartbeat(old), "the slow owner learns it lost the job")
    }

    /// Several recoverers race for one dead job: exactly one wins.
    func testCompetingRecoverersTakeOverOnce() throws {
        let root = try SpoolTest.temporaryDirectory()
        for i in 0..<8 { _ = try claimAsDead(root, owner: SpoolTest.deadLocalProcess, name: "j\(i).yaml") }
        let won = Locked<[ClaimedJob]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            guard let spool = try? SpoolTest.spool(root) else { return }
            while let job = try? spool.claimNext(priority: { _ in 0 }) { won.mutate { $0.append(job) } }
        }
        XCTAssertEqual(won.value.count, 8)
        XCTAssertEqual(Set(won.value.map(\.id)).count, 8)
        XCTAssertTrue(won.value.allSatisfy { $0.generation == 2 })
    }

    func testReleasedJobResumesAtOnceWithItsCheckpoint() throws {
        let root = try SpoolTest.temporaryDirectory()
        let first = try SpoolTest.spool(root)
        try SpoolTest.submit(first, "long.yaml", age: 100)
        try SpoolTest.submit(first, "later.yaml", age: 10)
        let job = try XCTUnwrap(try first.claimNext(priority: { _ in 0 }))
        XCTAssertEqual(job.id, "long")
        try first.writeCheckpoint(Data("latents@20".utf8), for: job)
        try first.release(job)  // SIGTERM
        XCTAssertThrowsError(try first.heartbeat(job), "a late heartbeat must not take a released job back")

        // The next start (a new process) resumes the released job before the younger queued one.
        var restarted = ProcessIdentity.current()
        restarted.startTime += 99
        let second = try SpoolTest.spool(root, identity: restarted)
        let resumed = try XCTUnwrap(try second.claimNext(priority: { _ in 0 }))
        XCTAssertEqual(resumed.id, "long")
        XCTAssertTrue(resumed.isResumed)
        XCTAssertEqual(try second.readCheckpoint(for: resumed), Data("latents@20".utf8))
        let done = try second.finish(resumed, outcome: .done, record: .mapping([("steps", .int(50))]))
        XCTAssertEqual(SpoolTest.list(done), ["job.yaml", "lease.1", "lease.2", "result.yaml"], "checkpoint removed")
        XCTAssertEqual(try second.claimNext(priority: { _ in 0 })?.id, "later")
    }

    func testReleasedJobsDoNotCountAsCrashes() throws {
        let root = try SpoolTest.temporaryDirectory()
        try SpoolTest.submit(try SpoolTest.spool(root), "a.yaml")
        for _ in 0..<5 {
            let spool = try SpoolTest.spool(root, maxAttempts: 2)
            let job = try XCTUnwrap(try spool.claimNext(priority: { _ in 0 }))
            try spool.release(job)
        }
        XCTAssertEqual(SpoolTest.list(try SpoolTest.spool(root).failed), [])
    }

    func testCrashLoopingJobIsFailed() throws {
        let root = try SpoolTest.temporaryDirectory()
        _ = try claimAsDead(root, owner: SpoolTest.deadLocalProcess)
        for pid in [Int32.max - 8, Int32.max - 9] {  // two more owners die holding it
            var owner = SpoolTest.deadLocalProcess
            owner.pid = pid
            let job = try XCTUnwrap(try SpoolTest.spool(root, identity: owner).claimNext(priority: { _ in 0 }))
            XCTAssertEqual(job.id, "job")
        }
        let spool = try SpoolTest.spool(root, maxAttempts: 3)
        XCTAssertNil(try spool.claimNext(priority: { _ in 0 }))
        XCTAssertEqual(SpoolTest.list(spool.failed), ["job"])
        let result = try String(contentsOf: spool.failed.appendingPathComponent("job/result.yaml"), encoding: .utf8)
        XCTAssertTrue(result.contains("abandoned after 3 attempts"), result)
    }

    /// A claimer that died inside the claim protocol: its claim directory is finished or removed.
    func testHalfClaimsAreRecovered() throws {
        let root = try SpoolTest.temporaryDirectory()
        let spool = try SpoolTest.spool(root)
        let dead = SpoolTest.deadLocalProcess
        let lease = """
            host: "\(dead.host)"
            boot_id: "\(dead.bootID)"
            pid: \(dead.pid)
            process_start: "\(dead.startTime)"
            generation: 1
            source: "half.yaml"
            claimed: "2024-01-01T00:00:00.000Z"
            heartbeat: "2024-01-01T00:00:00.000Z"
            released: false

            """
        // Died after writing the lease, before moving the job file in.
        let empty = spool.processing.appendingPathComponent(".claim.h.1.1.1")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: false)
        try Data(lease.utf8).write(to: empty.appendingPathComponent("lease.1"))
        // Died after moving the job file in, before renaming the claim directory.
        let full = spool.processing.appendingPathComponent(".claim.h.1.2.2")
        try FileManager.default.createDirectory(at: full, withIntermediateDirectories: false)
        try Data(lease.utf8).write(to: full.appendingPathComponent("lease.1"))
        try Data("name: half.yaml\n".utf8).write(to: full.appendingPathComponent("job.yaml"))

        XCTAssertEqual(try spool.recover(), 2)
        XCTAssertEqual(SpoolTest.list(spool.processing), ["half"])
        let job = try XCTUnwrap(try spool.claimNext(priority: { _ in 0 }))
        XCTAssertEqual(job.id, "half")
        XCTAssertEqual(job.source, "half.yaml")
        XCTAssertEqual(try SpoolTest.jobNames(in: spool), ["half.yaml"])
    }

    /// An owner that died after writing result.yaml: the move to done/ is completed.
    func testDeadFinishIsCompleted() throws {
        let root = try SpoolTest.temporaryDirectory()
        let job = try claimAsDead(root, owner: SpoolTest.deadLocalProcess)
        try Data("job: \"job\"\nstatus: \"done\"\n".utf8).write(to: job.directory.appendingPathComponent("result.yaml"))
        let spool = try SpoolTest.spool(root)
        XCTAssertNil(try spool.claimNext(priority: { _ in 0 }))
        XCTAssertEqual(SpoolTest.list(spool.done), ["job"])
        XCTAssertEqual(SpoolTest.list(spool.processing), [])
    }
}
