// SharedSpoolTests: two daemons on one spool render 20 jobs, each exactly once: one result each, one
// lease generation each (no job was taken over or claimed twice), one render start each in the logs,
// and both daemons did part of the work.

import Foundation
import XCTest

final class SharedSpoolTests: DaemonTestCase {
    func testTwoDaemonsOnOneSpoolRenderTwentyJobsExactlyOnce() throws {
        let spool = try makeSpool("shared")
        // Two daemons share the cores: one thread each (the harness default) and 2-step renders.
        let ids = (0..<20).map { String(format: "j%02d", $0) }
        for (i, id) in ids.enumerated() {
            try spool.submit("\(id).yaml", TestSpool.job(class: i % 5, seeds: [i], extra: "steps: 2\n"))
        }
        // A short delay per step keeps each render busy long enough for both daemons to take part.
        let daemons = try (0..<2).map {
            try DaemonProcess(
                spool, arguments: ["--test-step-delay", "0.05"], environment: ["OPENBLAS_NUM_THREADS": "1"],
                name: "d\($0)")
        }
        try waitUntil("20 jobs in done/", timeout: 60) { spool.list("done").count + spool.list("failed").count >= 20 }

        XCTAssertEqual(spool.list("done"), ids)
        XCTAssertEqual(spool.list("failed"), [])
        XCTAssertEqual(spool.list("processing"), [])
        XCTAssertEqual(spool.list("incoming"), [])
        XCTAssertEqual(spool.outputs().filter { $0.hasSuffix(".mp4") }, ids.enumerated().map { "\($1)-\($0).mp4" })
        let pids = Set(daemons.map { String($0.pid) })
        var byDaemon: [String: Int] = [:]
        for id in ids {
            let files = try FileManager.default.contentsOfDirectory(
                atPath: spool.spool.appendingPathComponent("done/\(id)").path)
            XCTAssertEqual(files.filter { $0.hasPrefix("lease.") }, ["lease.1"], "\(id) was claimed more than once")
            let record = spool.result("done", id)
            XCTAssertEqual(Records.value("attempt", in: record), "1", record)
            let pid = Records.value("pid", in: record) ?? "?"
            XCTAssertTrue(pids.contains(pid), "\(id) finished by unknown pid \(pid)")
            byDaemon[pid, default: 0] += 1
        }
        for d in daemons { XCTAssertEqual(d.stop(), 0, d.logText) }
        let logs = daemons.map(\.logText).joined()
        for id in ids {
            let starts = logs.components(separatedBy: "[\(id)] starting ").count - 1
            XCTAssertEqual(starts, 1, "\(id) started \(starts) times")
        }
        XCTAssertEqual(byDaemon.count, 2, "both daemons should have rendered jobs: \(byDaemon)")
    }
}
