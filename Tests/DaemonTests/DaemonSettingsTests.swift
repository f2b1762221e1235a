// DaemonSettingsTests: the config's `daemon:` section (timing knobs of `skipdit serve`): defaults, values,
// and errors at line:column (unknown key, out of range, heartbeat too slow for the stale threshold).

import Daemon
import Foundation
import Jobs
import XCTest

final class DaemonSettingsTests: XCTestCase {
    private let base = "spool: /s\noutput: /o\nmodels:\n  m:\n    preset: demo\n    checkpoint: c.pt\n    vae: v\n"

    private func parse(_ text: String) throws -> DaemonConfig {
        try DaemonConfig.parse(base + text, file: "c.yaml", directory: URL(fileURLWithPath: "/etc"))
    }

    private func errors(_ text: String) -> [String] {
        do {
            _ = try parse(text)
            return []
        } catch let error as JobError {
            return error.diagnostics.map { "\($0.line):\($0.column) \($0.message)" }
        } catch {
            return ["\(error)"]
        }
    }

    func testDefaultsAndValues() throws {
        XCTAssertEqual(try parse("").daemon, DaemonSettings())
        let d = try parse(
            "daemon:\n  rescan_seconds: 5\n  stability_seconds: 0\n  heartbeat_seconds: 0.5\n"
                + "  stale_after_seconds: 30\n  checkpoint_every: 2\n  max_attempts: 0\n"
        ).daemon
        XCTAssertEqual(d.rescanSeconds, 5)
        XCTAssertEqual(d.stabilitySeconds, 0)
        XCTAssertEqual(d.heartbeatSeconds, 0.5)
        XCTAssertEqual(d.staleAfterSeconds, 30)
        XCTAssertEqual(d.checkpointEvery, 2)
        XCTAssertEqual(d.maxAttempts, 0)
        let spool = SpoolAccess.configuration(d)
        XCTAssertEqual(spool.stabilityInterval, 0)
        XCTAssertEqual(spool.staleAfter, 30)
        XCTAssertEqual(spool.maxAttempts, 0)
    }

    func testErrorsPointAtTheValue() {
        let line = base.split(separator: "\n").count + 2
        XCTAssertEqual(errors("daemon:\n  heartbeat: 3\n").first?.hasPrefix("\(line):3 unknown key 'heartbeat'"), true)
        XCTAssertEqual(
            errors("daemon:\n  checkpoint_every: 0\n").first?.hasPrefix("\(line):21 'checkpoint_every' is 0"), true)
        XCTAssertEqual(errors("daemon:\n  rescan_seconds: fast\n").first?.hasPrefix("\(line):19 "), true)
        XCTAssertEqual(
            errors("daemon:\n  heartbeat_seconds: 100\n").first,
            "\(line):22 'stale_after_seconds' (120.0) must be at least twice 'heartbeat_seconds' (100.0)")
        XCTAssertEqual(errors("daemon: 3\n").first, "\(line - 1):9 'daemon' must be a mapping, not the integer 3")
    }
}
