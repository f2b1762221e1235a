// ClaimTests: scanning incoming/ (ignored names, stability, order) and claiming exactly once.

import Foundation
import Spool
import XCTest

final class ClaimTests: XCTestCase {
    func testCreatesLayout() throws {
        let root = try SpoolTest.temporaryDirectory()
        _ = try SpoolTest.spool(root.appendingPathComponent("spool"))
        XCTAssertEqual(
            SpoolTest.list(root.appendingPathComponent("spool")), ["done", "failed", "incoming", "processing"])
    }

    func testIgnoresDotfilesEditorFilesAndOtherNames() throws {
        let spool = try SpoolTest.spool(try SpoolTest.temporaryDirectory())
        for name in [
            ".hidden.yaml", "job.yaml~", ".#job.yaml", "#job.yaml#", "job.yaml.swp", "job.tmp", "job.yaml.part",
            "notes.txt", "real.yaml", "other.yml",
        ] {
            try Data("name: \(name)\n".utf8).write(to: spool.incoming.appendingPathComponent(name))
        }
        try FileManager.default.createDirectory(
            at: spool.incoming.appendingPathComponent("dir.yaml"), withIntermediateDirectories: false)
        let ready = try spool.queue(priority: { _ in 0 }).ready
        XCTAssertEqual(Set(ready.map(\.file.lastPathComponent)), ["real.yaml", "other.yml"])
        XCTAssertEqual(Set(ready.map(\.id)), ["real", "other"])
        // Ignored files are left alone.
        XCTAssertTrue(SpoolTest.list(spool.incoming).contains("notes.txt"))
    }

    func testOrderIsPriorityThenAge() throws {
        let spool = try SpoolTest.spool(try SpoolTest.temporaryDirectory())
        try SpoolTest.submit(spool, "low-old.yaml", priority: 0, age: 300)
        try SpoolTest.submit(spool, "high-new.yaml", priority: 5, age: 10)
        try SpoolTest.submit(spool, "high-old.yaml", priority: 5, age: 200)
        try SpoolTest.submit(spool, "low-new.yaml", priority: 0, age: 5)
        try SpoolTest.submit(spool, "negative.yaml", priority: -3, age: 1000)
        let expected = ["high-old", "high-new", "low-old", "low-new", "negative"]
        XCTAssertEqual(try spool.queue(priority: SpoolTest.priority).ready.map(\.id), expected)
        var claimed: [String] = []
        while let job = try spool.claimNext(priority: SpoolTest.priority) {
            claimed.append(job.id)
            try spool.finish(job, outcome: .done)
        }
        XCTAssertEqual(claimed, expected)
        XCTAssertEqual(SpoolTest.list(spool.done), expected.sorted())
    }

    func testWaitsUntilFileIsStable() throws {
        let spool = try SpoolTest.spool(try SpoolTest.temporaryDirectory(), stability: 0.3)
        let file = spool.incoming.appendingPathComponent("growing.yaml")
        try Data("name: a\n".utf8).write(to: file)
        var scan = try spool.queue(priority: { _ in 0 })
        XCTAssertEqual(scan.ready, [])
        XCTAssertEqual(scan.waiting.map(\.lastPathComponent), ["growing.yaml"])
        Thread.sleep(forTimeInterval: 0.2)
        try Data("name: a\npriority: 1\n".utf8).write(to: file)  // still being written: the clock restarts
        Thread.sleep(forTimeInterval: 0.2)
        scan = try spool.queue(priority: { _ in 0 })
        XCTAssertEqual(scan.ready, [], "changed 0.2 s ago, stability needs 0.3 s")
        XCTAssertNil(try spool.claimNext(priority: { _ in 0 }))
        Thread.sleep(forTimeInterval: 0.35)
        let job = try XCTUnwrap(try spool.claimNext(priority: { _ in 0 }))
        XCTAssertEqual(job.id, "growing")
        XCTAssertEqual(try String(contentsOf: job.jobFile, encoding: .utf8), "name: a\npriority: 1\n")
    }

    func testClaimMovesJobAndWritesLease() throws {
        let spool = try SpoolTest.spool(try SpoolTest.temporaryDirectory())
        let submitted = try SpoolTest.submit(spool, "My Job (1).yaml", age: 100)
        let mtime = try FileManager.default.attributesOfItem(atPath: submitted.path)[.modificationDate] as? Date
        let job = try XCTUnwrap(try spool.claimNext(priority: { _ in 0 }))
        XCTAssertEqual(job.id, "My_Job__1_")
        XCTAssertEqual(job.source, "My Job (1).yaml")
        XCTAssertEqual(job.generation, 1)
        XCTAssertFalse(job.isResumed)
        XCTAssertEqual(job.directory, spool.processing.appendingPathComponent("My_Job__1_", isDirectory: true))
        XCTAssertEqual(SpoolTest.list(job.directory), ["job.yaml", "lease.1"])
        XCTAssertEqual(SpoolTest.list(spool.incoming), [])
        let kept = try FileManager.default.attributesOfItem(atPath: job.jobFile.path)[.modificationDate] as? Date
        XCTAssertEqual(kept, mtime, "the rename keeps the job's age")
        let lease = try String(contentsOf: job.directory.appendingPathComponent("lease.1"), encoding: .utf8)
        XCTAssertTrue(lease.contains("pid: \(getpid())"), lease)
        XCTAssertTrue(lease.contains("released: false"), lease)
        XCTAssertNil(try spool.claimNext(priority: { _ in 0 }), "our own running job is not claimable")
    }

    func testSameStemGetsUniqueIds() throws {
        let spool = try SpoolTest.spool(try SpoolTest.temporaryDirectory())
        try SpoolTest.submit(spool, "a.yaml", age: 30)
        try SpoolTest.submit(spool, "a.yml", age: 20)
        let first = try XCTUnwrap(try spool.claimNext(priority: { _ in 0 }))
        let second = try XCTUnwrap(try spool.claimNext(priority: { _ in 0 }))
        XCTAssertEqual([first.id, second.id], ["a", "a-2"])
        try spool.finish(first, outcome: .done)
        try SpoolTest.submit(spool, "a.yaml")
        let third = try XCTUnwrap(try spool.claimNext(priority: { _ in 0 }))
        XCTAssertEqual(third.id, "a-3", "ids used in done/ are not reused")
    }

    /// Several spool instances (as several daemons) race on the same files from threads: each job is
    /// claimed exactly once and no file is lost or left behind.
    func testCompetingClaimersClaimEachJobExactlyOnce() throws {
        let root = try SpoolTest.temporaryDirectory()
        let setup = try SpoolTest.spool(root)
        let count = 60
        for i in 0..<count { try SpoolTest.submit(setup, String(format: "job%03d.yaml", i), priority: i % 3) }
        let before = try SpoolTest.jobNames(in: setup)
        XCTAssertEqual(before.count, count)

        let claimers = 4
        let results = Locked<[String]>([])
        let errors = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: claimers) { _ in
            do {
                let spool = try SpoolTest.spool(root)
                while let job = try spool.claimNext(priority: SpoolTest.priority) {
                    results.mutate { $0.append(job.id) }
                }
            } catch {
                errors.mutate { $0.append("\(error)") }
            }
        }
        XCTAssertEqual(errors.value, [])
        XCTAssertEqual(results.value.count, count)
        XCTAssertEqual(Set(results.value).count, count, "no job claimed twice")
        XCTAssertEqual(SpoolTest.list(setup.processing).count, count)
        XCTAssertFalse(SpoolTest.list(setup.processing).contains { $0.hasPrefix(".") }, "no claim directory left")
        XCTAssertEqual(SpoolTest.list(setup.incoming), [])
        XCTAssertEqual(try SpoolTest.jobNames(in: setup), before, "no job file lost or duplicated")
        for id in results.value {
            XCTAssertEqual(SpoolTest.list(setup.processing.appendingPathComponent(id)), ["job.yaml", "lease.1"])
        }
    }
}

/// A value shared between threads.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
    func mutate(_ body: (inout Value) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        body(&stored)
    }
}
