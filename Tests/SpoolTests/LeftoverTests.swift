// LeftoverTests: what a process killed in the middle of a spool write leaves behind is cleared by the
// next owner: the temp files of its checkpoint, progress, lease or result writes (which would otherwise
// travel to done/ with the job), and half-made claim directories, also one holding the temp file of the
// lease being published (which used to make every later recovery fail on a directory not empty).

import Foundation
import Jobs
import Spool
import XCTest

final class LeftoverTests: XCTestCase {
    private let dead = SpoolTest.deadLocalProcess

    /// A temp file as the spool's atomic writes name them (`.<name>.<pid>.<random>.tmp`).
    private func temp(_ name: String, pid: Int32, in directory: URL) throws {
        try Data("partial".utf8).write(
            to: directory.appendingPathComponent(".\(name).\(pid).\(UInt32.random(in: 0...UInt32.max)).tmp"))
    }

    func testATakeoverRemovesTheTempFilesOfTheDeadOwnerOnly() throws {
        let root = try SpoolTest.temporaryDirectory()
        let deadSpool = try SpoolTest.spool(root, identity: dead)
        try SpoolTest.submit(deadSpool, "job.yaml")
        let old = try XCTUnwrap(try deadSpool.claimNext(priority: { _ in 0 }))
        try deadSpool.writeCheckpoint(Data("step 4".utf8), for: old)
        for name in ["checkpoint.bin", "progress.yaml", "lease.1", "result.yaml"] {
            try temp(name, pid: dead.pid, in: old.directory)
        }
        try temp("cancel", pid: getppid(), in: old.directory)  // a live `skipdit cancel` writing its request
        let spool = try SpoolTest.spool(root)
        let job = try XCTUnwrap(try spool.claimNext(priority: { _ in 0 }))
        XCTAssertEqual(job.generation, 2)
        XCTAssertEqual(spool.formerWriters(of: job), [dead.pid])
        let names = SpoolTest.list(job.directory)
        XCTAssertEqual(names.filter { !$0.hasPrefix(".") }, ["checkpoint.bin", "job.yaml", "lease.1", "lease.2"])
        XCTAssertEqual(names.filter { $0.hasPrefix(".") }.count, 1, "\(names)")
        XCTAssertTrue(names.contains { $0.hasPrefix(".cancel.\(getppid()).") }, "\(names)")
        XCTAssertEqual(try spool.readCheckpoint(for: job), Data("step 4".utf8))
        XCTAssertTrue(try spool.finish(job, outcome: .done).path.hasSuffix("done/job"))
    }

    func testTheUnpublishedLeaseTempOfAProcessThatLostTheTakeoverIsRemoved() throws {
        // A second taker was killed after writing `.lease.2.<pid>…tmp` and before its link: it never
        // owned the job (lease 2 is someone else's), yet its temp file must not reach done/.
        let root = try SpoolTest.temporaryDirectory()
        let deadSpool = try SpoolTest.spool(root, identity: dead)
        try SpoolTest.submit(deadSpool, "job.yaml")
        let old = try XCTUnwrap(try deadSpool.claimNext(priority: { _ in 0 }))
        try temp("lease.2", pid: dead.pid + 1, in: old.directory)
        let spool = try SpoolTest.spool(root)
        let job = try XCTUnwrap(try spool.claimNext(priority: { _ in 0 }))
        XCTAssertEqual(job.generation, 2)
        XCTAssertEqual(SpoolTest.list(job.directory).filter { $0.hasPrefix(".") }, [])
    }

    func testAReleasedOwnerIsNotAFormerWriter() throws {
        let root = try SpoolTest.temporaryDirectory()
        let first = try SpoolTest.spool(root)
        try SpoolTest.submit(first, "job.yaml")
        let job = try XCTUnwrap(try first.claimNext(priority: { _ in 0 }))
        try first.release(job)
        var restarted = ProcessIdentity.current()
        restarted.startTime += 1
        let second = try SpoolTest.spool(root, identity: restarted)
        let resumed = try XCTUnwrap(try second.claimNext(priority: { _ in 0 }))
        XCTAssertEqual(resumed.generation, 2)
        XCTAssertEqual(second.formerWriters(of: resumed), [])
    }

    func testHalfMadeClaimsOfADeadLocalClaimerAreRemovedAtOnce() throws {
        let root = try SpoolTest.temporaryDirectory()
        // A long stale time: these are judged by the claimer's pid in the directory name, not by age.
        let spool = try SpoolTest.spool(root, staleAfter: 3600)
        let host = ProcessIdentity.current().host.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" }
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
        func claim(_ n: Int) throws -> URL {
            let url = spool.processing.appendingPathComponent(".claim.\(String(host)).\(dead.pid).\(n).\(n)")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
            return url
        }
        _ = try claim(1)  // killed right after mkdir
        try temp("lease.1", pid: dead.pid, in: try claim(2))  // killed while publishing its lease
        let linked = try claim(3)  // killed after linking the lease, before removing its temp file
        try Data(lease.utf8).write(to: linked.appendingPathComponent("lease.1"))
        try temp("lease.1", pid: dead.pid, in: linked)
        // A claim of a live process on this host (the parent) is left alone.
        let live = spool.processing.appendingPathComponent(".claim.\(String(host)).\(getppid()).1.1")
        try FileManager.default.createDirectory(at: live, withIntermediateDirectories: false)

        XCTAssertEqual(try spool.recover(), 3)
        XCTAssertEqual(SpoolTest.list(spool.processing), [live.lastPathComponent])
        XCTAssertNil(try spool.claimNext(priority: { _ in 0 }))
    }
}
