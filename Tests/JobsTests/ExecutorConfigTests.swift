// The `executor:` section: local by default; the Slurm keys are checked when the config is read, each
// problem named at its line and column.

import Foundation
import Jobs
import XCTest

final class ExecutorConfigTests: XCTestCase {
    private func parse(_ executor: String) throws -> DaemonConfig {
        try DaemonConfig.parse(
            testConfigText + "\n" + executor, file: "skipdit.yaml", directory: URL(fileURLWithPath: "/etc/skipdit"))
    }

    /// The line of `executor:` in `parse`'s text (the test config comes first).
    private let line = testConfigText.split(separator: "\n", omittingEmptySubsequences: false).count + 1

    func testDefaultIsLocal() throws {
        XCTAssertEqual(try testConfig().executor, ExecutorSettings())
        XCTAssertEqual(try testConfig().executor.kind, .local)
    }

    func testSlurmSettingsAreRead() throws {
        let config = try parse(
            """
            executor:
              kind: slurm
              partition: debug
              account: render
              qos: batch
              constraint: avx512
              time_limit: "1-02:00:00"
              cpus_per_task: 4
              mem: 16G
              max_attempts: 5
              max_in_flight: 12
              sbatch_args: ["--exclusive", "--nice=10"]
              signal_margin_seconds: 600
              poll_seconds: 2.5
              binary: /usr/bin/skipdit
            """)
        let e = config.executor
        XCTAssertEqual(e.kind, .slurm)
        XCTAssertEqual([e.partition, e.account, e.qos, e.constraint], ["debug", "render", "batch", "avx512"])
        XCTAssertEqual(e.timeLimit, "1-02:00:00")
        XCTAssertEqual(e.cpusPerTask, 4)
        XCTAssertEqual(e.mem, "16G")
        XCTAssertEqual(e.maxAttempts, 5)
        XCTAssertEqual(e.maxInFlight, 12)
        XCTAssertEqual(e.sbatchArgs, ["--exclusive", "--nice=10"])
        XCTAssertEqual(e.signalMarginSeconds, 600)
        XCTAssertEqual(e.pollSeconds, 2.5)
        XCTAssertEqual(e.binary, "/usr/bin/skipdit")
        // The issue's own example: a pass-through --qos when the qos key is not used.
        XCTAssertEqual(
            try parse("executor: { kind: slurm, sbatch_args: [\"--qos=batch\"] }").executor.sbatchArgs, ["--qos=batch"])
    }

    func testSlurmTimeLimits() {
        let cases: [(String, Int?)] = [
            ("90", 5400), ("10:30", 630), ("02:00:00", 7200), ("1-0", 86_400), ("1-2:30", 95_400),
            ("2-00:00:01", 172_801), ("0", nil), ("UNLIMITED", nil), ("1:2:3:4", nil), ("-5", nil), ("", nil),
            ("1-", nil), ("a:b", nil),
        ]
        for (text, seconds) in cases { XCTAssertEqual(ExecutorSettings.seconds(ofTimeLimit: text), seconds, text) }
    }

    func testEachProblemIsNamedWhereItIs() {
        let d = diagnostics {
            try parse(
                """
                executor:
                  kind: slrum
                  time_limit: "2 hours"
                  mem: lots
                  partition: "de bug"
                  sbatch_args: ["exclusive", "--array=1-3", "--account=x"]
                  account: render
                  binary: skipdit
                  cpus_per_task: 0
                """)
        }
        assertDiagnostic(d, line + 1, 9, "'kind' must be 'local' or 'slurm', not 'slrum'; did you mean 'slurm'?")
        assertDiagnostic(d, line + 2, 15, "not a Slurm time limit")
        assertDiagnostic(d, line + 3, 8, "not a Slurm memory size")
        assertDiagnostic(d, line + 4, 14, "'partition' holds the character U+20")
        assertDiagnostic(d, line + 5, 17, "sbatch argument 'exclusive' is not an option")
        assertDiagnostic(d, line + 5, 30, "sbatch argument '--array' is set by skipdit")
        assertDiagnostic(d, line + 5, 45, "sbatch argument '--account' repeats the executor key 'account'")
        assertDiagnostic(d, line + 7, 11, "'binary' is 'skipdit', not an absolute path")
        assertDiagnostic(d, line + 8, 18, "'cpus_per_task' is 0")
        XCTAssertEqual(d.count, 9, d.map(\.description).joined(separator: "\n"))
    }

    func testSignalMarginMustFitTheTimeLimit() {
        let d = diagnostics {
            try parse("executor:\n  kind: slurm\n  time_limit: \"5\"\n  signal_margin_seconds: 300\n")
        }
        assertDiagnostic(d, line + 3, 26, "must be shorter than 'time_limit' (300 s)")
    }
}
