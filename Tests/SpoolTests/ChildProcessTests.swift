// ChildProcessTests: real processes compete for a spool, and a real kill -9 is recovered. The test
// binary re-runs itself with SKIPDIT_SPOOL_CHILD set to act as a child daemon (`testChildRole`).

import Foundation
import Spool
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

final class ChildProcessTests: XCTestCase {
    /// The role of a child process (does nothing in a normal test run).
    func testChildRole() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let role = environment["SKIPDIT_SPOOL_CHILD"], let path = environment["SKIPDIT_SPOOL_ROOT"] else {
            return
        }
        let root = URL(fileURLWithPath: path)
        let spool = try SpoolTest.spool(root)
        switch role {
        case "claim":
            try Data().write(to: root.appendingPathComponent("started-\(getpid())"))
            while !FileManager.default.fileExists(atPath: root.appendingPathComponent("go").path) {
                usleep(1000)
            }
            var claimed: [String] = []
            while let job = try spool.claimNext(priority: SpoolTest.priority) { claimed.append(job.id) }
            let out = root.appendingPathComponent("claims-\(getpid()).txt")
            try Data(claimed.joined(separator: "\n").utf8).write(to: out, options: .atomic)
            // Stay alive (holding the leases) until the parent has counted: an exited child's jobs are
            // rightly recoverable by the others.
            while !FileManager.default.fileExists(atPath: root.appendingPathComponent("exit").path) {
                Thread.sleep(forTimeInterval: 0.05)
            }
        case "hold":
            let job = try XCTUnwrap(try spool.claimNext(priority: { _ in 0 }))
            try spool.writeCheckpoint(Data("latents@step3".utf8), for: job)
            try Data().write(to: root.appendingPathComponent("ready"))
            Thread.sleep(forTimeInterval: 120)  // killed by the parent
        default:
            XCTFail("unknown child role \(role)")
        }
    }

    private func spawn(_ role: String, root: URL) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["SpoolTests.ChildProcessTests/testChildRole"]
        var environment = ProcessInfo.processInfo.environment
        environment["SKIPDIT_SPOOL_CHILD"] = role
        environment["SKIPDIT_SPOOL_ROOT"] = root.path
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func testChildProcessesClaimEachJobOnce() throws {
        let root = try SpoolTest.temporaryDirectory()
        let spool = try SpoolTest.spool(root)
        let count = 40
        for i in 0..<count { try SpoolTest.submit(spool, "p\(i).yaml", priority: i % 4) }
        let before = try SpoolTest.jobNames(in: spool)
        let children = try (0..<3).map { _ in try spawn("claim", root: root) }
        let startDeadline = Date().addingTimeInterval(60)
        while SpoolTest.list(root).filter({ $0.hasPrefix("started-") }).count < children.count, Date() < startDeadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        try Data().write(to: root.appendingPathComponent("go"))
        var mine: [String] = []
        while let job = try spool.claimNext(priority: SpoolTest.priority) { mine.append(job.id) }
        let deadline = Date().addingTimeInterval(60)
        while SpoolTest.list(root).filter({ $0.hasPrefix("claims-") }).count < children.count, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        try Data().write(to: root.appendingPathComponent("exit"))
        for child in children {
            child.waitUntilExit()
            XCTAssertEqual(child.terminationStatus, 0)
        }
        var all = mine
        for name in SpoolTest.list(root) where name.hasPrefix("claims-") {
            let text = try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
            all += text.split(separator: "\n").map(String.init)
        }
        XCTAssertEqual(all.count, count)
        XCTAssertGreaterThan(mine.count, 0)
        XCTAssertLessThan(mine.count, count, "the children claimed some jobs too")
        XCTAssertEqual(Set(all).count, count, "each job claimed by exactly one process")
        XCTAssertEqual(try SpoolTest.jobNames(in: spool), before, "no job file lost")
        XCTAssertEqual(SpoolTest.list(spool.processing).count, count)
    }

    func testKillNineIsRecoveredFromCheckpoint() throws {
        let root = try SpoolTest.temporaryDirectory()
        let spool = try SpoolTest.spool(root)
        try SpoolTest.submit(spool, "victim.yaml")
        let child = try spawn("hold", root: root)
        let deadline = Date().addingTimeInterval(30)
        while FileManager.default.fileExists(atPath: root.appendingPathComponent("ready").path) == false {
            XCTAssertLessThan(Date(), deadline, "child did not claim the job")
            if Date() > deadline { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertNil(try spool.claimNext(priority: { _ in 0 }), "the child is alive")
        XCTAssertEqual(try spool.status(priority: { _ in 0 }).running.map(\.state), [.alive])
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        let job = try XCTUnwrap(try spool.claimNext(priority: { _ in 0 }))
        XCTAssertEqual(job.id, "victim")
        XCTAssertEqual(job.generation, 2)
        XCTAssertEqual(try spool.readCheckpoint(for: job), Data("latents@step3".utf8))
    }
}
