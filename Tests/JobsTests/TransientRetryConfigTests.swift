// TransientRetryConfigTests: the `daemon:` keys of the transient-failure retry policy (retries, the
// first and the longest back-off), their defaults (off), ranges, and the doubling back-off.

import Foundation
import Jobs
import XCTest

final class TransientRetryConfigTests: XCTestCase {
    private func config(_ daemon: String) throws -> DaemonConfig {
        try DaemonConfig.parse(
            testConfigText + "\ndaemon:\n" + daemon, file: "skipdit.yaml", directory: URL(fileURLWithPath: "/etc"))
    }

    func testDefaultsAreOff() throws {
        let settings = try testConfig().daemon
        XCTAssertEqual(settings.transientRetries, 0)
        XCTAssertEqual(settings.transientBackoffSeconds, 60)
        XCTAssertEqual(settings.transientBackoffMaxSeconds, 3600)
    }

    func testKeysAndDoublingBackoff() throws {
        let settings = try config(
            "  transient_retries: 4\n  transient_backoff_seconds: 30\n  transient_backoff_max_seconds: 100\n"
        ).daemon
        XCTAssertEqual(settings.transientRetries, 4)
        XCTAssertEqual((1...4).map(settings.transientBackoff(failures:)), [30, 60, 100, 100])
    }

    func testOutOfRangeValuesAreErrorsAtTheirLine() {
        let d = diagnostics { try config("  transient_retries: -1\n  transient_backoff_seconds: fast\n") }
        XCTAssertEqual(d.count, 2, "\(d)")
        XCTAssertTrue(d.contains { $0.message.contains("transient_retries") }, "\(d)")
        XCTAssertTrue(d.contains { $0.message.contains("transient_backoff_seconds") }, "\(d)")
    }
}
