// JobNotificationTests: the `notify:` commands of a real daemon. A command runs when a job ends (done,
// failed, cancelled) with the facts in SKIPDIT_* variables and as JSON on stdin, and once when the queue
// drains with the batch's counts, after the job-end commands; a command that hangs, fails or does not
// exist is logged and changes nothing for the jobs.

import Foundation
import XCTest

final class JobNotificationTests: DaemonTestCase {
    /// A `notify:` section whose commands write what they were given into `folder`. The drained command
    /// lists the folder first (`.listing`), appends its variables to `.drained` and publishes that as
    /// `drained.env` by a rename, so the test never reads it half-written.
    private func recordingNotify(_ folder: URL, on: String = "[done, failed, cancelled]") -> String {
        """
        notify:
          job_end: [/bin/sh, -c, 'env | grep "^SKIPDIT_" | sort > "$0/$SKIPDIT_JOB.env"; cat > "$0/$SKIPDIT_JOB.json"', \(folder.path)]
          queue_drained: [/bin/sh, -c, 'ls "$0" > "$0/.listing"; env | grep "^SKIPDIT_" | sort >> "$0/.drained"; cp "$0/.drained" "$0/.copy"; mv "$0/.copy" "$0/drained.env"', \(folder.path)]
          on: \(on)
          timeout_seconds: 20
        """
    }

    /// KEY=VALUE lines of an env dump.
    private func variables(_ url: URL) throws -> [String: String] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return values
    }

    func testEveryEndingAndTheDrainedQueueRunTheirCommands() throws {
        let spool = try makeSpool("notify")
        let seen = spool.root.appendingPathComponent("seen")
        try FileManager.default.createDirectory(at: seen, withIntermediateDirectories: true)
        try spool.writeConfig(extra: TestSpool.fastDaemon + "\n" + recordingNotify(seen))
        // Claimed in priority order: the long job first (cancelled while it renders), then the other two.
        try spool.submit("long.yaml", TestSpool.job(seeds: [1], extra: "steps: 40\npriority: 9\n"))
        try spool.submit("bad.yaml", "version: 1\nmodel: nosuch\nclass: 1\n")
        try spool.submit("good.yaml", TestSpool.job(seeds: [1, 2]))
        let daemon = try DaemonProcess(spool, arguments: ["--test-step-delay", "0.3"])
        try waitUntil("long at step 2") { (spool.progress("long")?.step ?? 0) >= 2 }
        let cancel = try spool.command(["cancel", "long", "--wait", "\(20 * TestTiming.scale)"])
        XCTAssertEqual(cancel.status, 0, cancel.output)
        let drained = seen.appendingPathComponent("drained.env")
        try waitUntil("the drained-queue command", timeout: 60 * TestTiming.scale) {
            FileManager.default.fileExists(atPath: drained.path)
        }
        XCTAssertEqual(spool.list("done"), ["good"])
        XCTAssertEqual(spool.list("failed"), ["bad", "long"])
        // The drained command ran after every job's command had finished.
        XCTAssertEqual(
            try String(contentsOf: seen.appendingPathComponent(".listing"), encoding: .utf8),
            "bad.env\nbad.json\ngood.env\ngood.json\nlong.env\nlong.json\n")

        let good = try variables(seen.appendingPathComponent("good.env"))
        XCTAssertEqual(good["SKIPDIT_EVENT"], "job_end")
        XCTAssertEqual(good["SKIPDIT_STATUS"], "done")
        XCTAssertEqual(good["SKIPDIT_VIDEOS"], "2")
        XCTAssertEqual(good["SKIPDIT_REASON"], "")
        let doneDir = spool.spool.appendingPathComponent("done/good")
        XCTAssertEqual(good["SKIPDIT_JOB_DIR"], doneDir.path)
        XCTAssertEqual(good["SKIPDIT_RESULT"], doneDir.appendingPathComponent("result.yaml").path)
        XCTAssertNotNil(Double(good["SKIPDIT_SECONDS"] ?? ""), "\(good)")
        // The outputs, one per line in the variable: env prints the first on SKIPDIT_OUTPUTS's line.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: seen.appendingPathComponent("good.json")))
        let facts = try XCTUnwrap(json as? [String: Any])
        let outputs = try XCTUnwrap(facts["outputs"] as? [String])
        XCTAssertEqual(outputs.map { URL(fileURLWithPath: $0).lastPathComponent }, ["good-1.mp4", "good-2.mp4"])
        for path in outputs { XCTAssertTrue(FileManager.default.fileExists(atPath: path), path) }
        XCTAssertEqual(good["SKIPDIT_OUTPUTS"], outputs.first)
        XCTAssertEqual(facts["status"] as? String, "done")
        XCTAssertEqual(facts["videos"] as? Int, 2)

        let bad = try variables(seen.appendingPathComponent("bad.env"))
        XCTAssertEqual(bad["SKIPDIT_STATUS"], "failed")
        XCTAssertTrue(bad["SKIPDIT_REASON"]?.contains("nosuch") ?? false, "\(bad)")
        XCTAssertEqual(bad["SKIPDIT_VIDEOS"], "0")
        let long = try variables(seen.appendingPathComponent("long.env"))
        XCTAssertEqual(long["SKIPDIT_STATUS"], "cancelled")
        XCTAssertEqual(long["SKIPDIT_REASON"], "cancelled")

        // One drained notification for the batch, with its counts.
        let text = try String(contentsOf: drained, encoding: .utf8)
        XCTAssertEqual(text.components(separatedBy: "SKIPDIT_EVENT=queue_drained").count - 1, 1, text)
        let batch = try variables(drained)
        XCTAssertEqual(batch["SKIPDIT_DONE"], "1")
        XCTAssertEqual(batch["SKIPDIT_FAILED"], "1")
        XCTAssertEqual(batch["SKIPDIT_CANCELLED"], "1")
        XCTAssertNotNil(Double(batch["SKIPDIT_SECONDS"] ?? ""), text)
        XCTAssertEqual(daemon.stop(), 0)
    }

    func testBrokenCommandsAreLoggedAndChangeNothing() throws {
        let spool = try makeSpool("notify-broken")
        try spool.writeConfig(
            extra: TestSpool.fastDaemon + """

                notify:
                  job_end: [/bin/sh, -c, 'sleep 60']
                  queue_drained: [/nonexistent/notify-program, --now]
                  on: [done]
                  timeout_seconds: 0.5
                """)
        try spool.submit("first.yaml", TestSpool.job())
        let daemon = try DaemonProcess(spool)
        try waitUntil("first in done/") { spool.list("done") == ["first"] }
        try spool.submit("second.yaml", TestSpool.job(seeds: [2]))
        try waitUntil("second in done/") { spool.list("done") == ["first", "second"] }
        try waitUntil("both warnings in the log", timeout: 30 * TestTiming.scale) {
            let log = (try? String(contentsOf: daemon.log, encoding: .utf8)) ?? ""
            return log.contains("did not finish within") && log.contains("/nonexistent/notify-program not found")
        }
        XCTAssertEqual(spool.list("failed"), [])
        XCTAssertEqual(spool.outputs(), ["first-1.mp4", "first-1.png", "second-2.mp4", "second-2.png"])
        XCTAssertEqual(daemon.stop(), 0)
    }
}
