// MetricsFileTests: a real daemon's Prometheus textfile (`metrics: textfile:`). While a job renders it
// shows the job's step, steps and ETA; afterwards the spool's counts, the videos rendered, the error of
// an invalid job by kind, the seconds per full and per cached step and the last success. Each version
// of the file passes `promtool check metrics` (Debian's prometheus package) where it is installed.

import Foundation
import XCTest

final class MetricsFileTests: DaemonTestCase {
    /// The value of the sample `name{labels}` (labels as written, e.g. `state="done"`), nil if absent.
    private func value(_ text: String, _ sample: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(sample + " ") {
            return Double(line.dropFirst(sample.count + 1))
        }
        return nil
    }

    private func promtool(_ text: String) throws -> (status: Int32, output: String)? {
        let path = "/usr/bin/promtool"
        guard FileManager.default.isExecutableFile(atPath: path) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testTheTextfileFollowsTheQueueAndPassesPromtool() throws {
        let spool = try makeSpool("metrics")
        let file = spool.root.appendingPathComponent("skipdit.prom")
        try spool.writeConfig(extra: TestSpool.fastDaemon + "\nmetrics:\n  textfile: \(file.path)\n")
        try spool.submit("slow.yaml", TestSpool.job(seeds: [1, 2], extra: "steps: 12\ncache: { interval: 2 }\n"))
        try spool.submit("broken.yaml", "version: 1\nmodel: tiny\nclass: 1\nsteps: many\n")
        let daemon = try DaemonProcess(spool, arguments: ["--test-step-delay", "0.2"])

        try waitUntil("the running job's step in the metrics") {
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            return (value(text, "skipdit_job_step{job=\"slow\"}") ?? 0) >= 2
        }
        let running = try String(contentsOf: file, encoding: .utf8)
        XCTAssertEqual(value(running, "skipdit_job_steps{job=\"slow\"}"), 12, running)
        XCTAssertNotNil(value(running, "skipdit_job_eta_seconds{job=\"slow\"}"), running)
        XCTAssertEqual(value(running, "skipdit_jobs{state=\"running\"}"), 1, running)
        if let check = try promtool(running) { XCTAssertEqual(check.status, 0, check.output + "\n" + running) }

        try waitUntil("both jobs ended") { spool.list("done") == ["slow"] && spool.list("failed") == ["broken"] }
        try waitUntil("the metrics of the ended jobs") {
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            return value(text, "skipdit_jobs{state=\"failed\"}") == 1 && value(text, "skipdit_jobs{state=\"done\"}") == 1
        }
        let text = try String(contentsOf: file, encoding: .utf8)
        XCTAssertEqual(value(text, "skipdit_jobs{state=\"running\"}"), 0, text)
        XCTAssertEqual(value(text, "skipdit_jobs{state=\"queued\"}"), 0, text)
        XCTAssertEqual(value(text, "skipdit_videos_rendered_total"), 2, text)
        XCTAssertEqual(value(text, "skipdit_jobs_ended_total{ending=\"done\"}"), 1, text)
        XCTAssertEqual(value(text, "skipdit_render_errors_total{kind=\"invalid_job\"}"), 1, text)
        XCTAssertEqual(value(text, "skipdit_render_errors_total{kind=\"render\"}"), 0, text)
        // 12 DDIM steps with N = 2 inside the window: full and cached steps both ran, for two videos.
        let full = value(text, "skipdit_step_seconds_count{kind=\"full\"}") ?? 0
        let cached = value(text, "skipdit_step_seconds_count{kind=\"cached\"}") ?? 0
        XCTAssertEqual(full + cached, 24, text)
        XCTAssertGreaterThan(cached, 0, text)
        XCTAssertGreaterThan(value(text, "skipdit_step_seconds_sum{kind=\"full\"}") ?? 0, 0, text)
        XCTAssertGreaterThan(value(text, "skipdit_last_success_timestamp_seconds") ?? 0, 1.7e9, text)
        XCTAssertNil(value(text, "skipdit_job_step{job=\"slow\"}"), "an ended job leaves the running gauges")
        XCTAssertTrue(text.contains("skipdit_build_info{version=\""), text)
        if let check = try promtool(text) { XCTAssertEqual(check.status, 0, check.output + "\n" + text) }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: spool.root.path).filter {
            $0.hasPrefix(".") && $0.contains("prom")
        }
        XCTAssertEqual(leftovers, [], "temp files of the atomic writes")
        XCTAssertEqual(daemon.stop(), 0)
    }
}
