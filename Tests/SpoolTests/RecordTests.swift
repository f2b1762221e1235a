// RecordTests: the YAML emitted for spool records round-trips its top-level scalars.

import Foundation
import Spool
import XCTest

final class RecordTests: XCTestCase {
    func testLeaseAndProgressRoundTripThroughFiles() throws {
        let spool = try SpoolTest.spool(try SpoolTest.temporaryDirectory())
        try SpoolTest.submit(spool, "tricky \"name\"\t#1.yaml")
        let job = try XCTUnwrap(try spool.claimNext(priority: { _ in 0 }))
        XCTAssertEqual(job.source, "tricky \"name\"\t#1.yaml")
        let status = try spool.status(priority: { _ in 0 })
        let lease = try XCTUnwrap(status.running.first?.lease)
        XCTAssertEqual(lease.source, "tricky \"name\"\t#1.yaml")
        XCTAssertEqual(lease.owner, ProcessIdentity.current())
        XCTAssertEqual(lease.generation, 1)
        XCTAssertFalse(lease.released)
        XCTAssertLessThan(abs(lease.heartbeat.timeIntervalSinceNow), 60)
        try spool.finish(job, outcome: .failed(reason: "line 1\nline \"2\" \\ \u{1}"))
        XCTAssertEqual(
            try spool.status(priority: { _ in 0 }).finished.first?.outcome,
            .failed(reason: "line 1\nline \"2\" \\ \u{1}"))
    }
}
