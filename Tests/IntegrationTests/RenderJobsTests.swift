// RenderJobsTests: the real daemon renders valid jobs into MP4 + poster + result record, picks up jobs
// dropped while it was down (in priority, then age order), and fails every kind of bad job with its
// reason without touching anything else.

import Foundation
import XCTest

final class RenderJobsTests: DaemonTestCase {
    func testValidJobsProduceVideoPosterAndResultRecord() throws {
        let spool = try makeSpool("valid")
        let daemon = try DaemonProcess(spool)
        try spool.submit("biking.yaml", TestSpool.job(class: 3, seeds: [1, 2]))
        try spool.submit(
            "custom.yml", TestSpool.job(class: 0, seeds: [7], extra: "output: \"sub/c{class}-{seed}.mp4\"\nfps: 4\n"))
        try waitUntil("two jobs in done/") { spool.list("done").count == 2 }

        XCTAssertEqual(spool.list("done"), ["biking", "custom"])
        XCTAssertEqual(spool.list("failed"), [])
        XCTAssertEqual(spool.list("processing"), [])
        XCTAssertEqual(spool.list("incoming"), [])
        XCTAssertEqual(
            spool.outputs(),
            ["biking-1.mp4", "biking-1.png", "biking-2.mp4", "biking-2.png", "sub/c0-7.mp4", "sub/c0-7.png"])
        for video in ["biking-1.mp4", "biking-2.mp4", "sub/c0-7.mp4"] {
            let data = try Data(contentsOf: spool.output.appendingPathComponent(video))
            XCTAssertGreaterThan(data.count, 1000, video)
            XCTAssertEqual(String(decoding: data[4..<8], as: UTF8.self), "ftyp", "\(video) is not an MP4")
            let poster = try Data(
                contentsOf: spool.output.appendingPathComponent(video.replacingOccurrences(of: ".mp4", with: ".png")))
            XCTAssertEqual(
                Array(poster.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "\(video) poster")
        }

        let record = spool.result("done", "biking")
        XCTAssertEqual(Records.value("status", in: record), "done", record)
        XCTAssertEqual(Records.value("source", in: record), "biking.yaml", record)
        XCTAssertEqual(Records.value("attempt", in: record), "1", record)
        for needle in [
            "parameters:\n  job: biking\n  model: tiny\n", "  class_index: 3\n", "  sampler: ddim\n", "  steps: 6\n",
            "seeds:\n  - 1\n  - 2\n", "  - seed: 1\n    video: biking-1.mp4\n    poster: biking-1.png\n",
            "steps:\n  full: ", "timings:\n  load: ", "software:\n  name: skipdit\n  version: ",
        ] {
            XCTAssertTrue(record.contains(needle), "result.yaml lacks \(needle.debugDescription):\n\(record)")
        }
        for video in ["biking-1.mp4", "biking-2.mp4"] {
            let digest = try sha256(spool.output.appendingPathComponent(video))
            XCTAssertEqual(digest.count, 64)
            // Plain, or double-quoted when it starts with a digit.
            XCTAssertTrue(
                record.contains("sha256: \(digest)\n") || record.contains("sha256: \"\(digest)\"\n"),
                "\(video) sha256 \(digest) not in:\n\(record)")
        }
        // 6 DDIM steps with Skip-Cache N=2 from the demo preset: 3 full and 3 cached steps per video.
        XCTAssertTrue(record.contains("steps:\n  full: 6\n  cached: 6\n"), record)
        let custom = spool.result("done", "custom")
        XCTAssertTrue(custom.contains("video: sub/c0-7.mp4\n"), custom)
        XCTAssertTrue(custom.contains("  fps: 4\n"), custom)

        XCTAssertEqual(daemon.stop(), 0, daemon.logText)
        XCTAssertTrue(daemon.logText.contains("[biking] done → "), daemon.logText)
    }

    func testJobsDroppedWhileTheDaemonIsDownRunInPriorityThenAgeOrder() throws {
        let spool = try makeSpool("down")
        let now = Date()
        for (name, priority, age) in [
            ("old-low", 0, 300.0), ("new-high", 5, 10.0), ("new-low", 0, 100.0), ("newest-low", 0, 5.0),
        ] {
            try spool.submit("\(name).yaml", TestSpool.job(extra: "priority: \(priority)\n"))
            try FileManager.default.setAttributes(
                [.modificationDate: now.addingTimeInterval(-age)],
                ofItemAtPath: spool.spool.appendingPathComponent("incoming/\(name).yaml").path)
        }
        let daemon = try DaemonProcess(spool)
        try waitUntil("four jobs in done/") { spool.list("done").count == 4 }
        let order = spool.list("done").sorted {
            (Records.value("finished", in: spool.result("done", $0)) ?? "")
                < (Records.value("finished", in: spool.result("done", $1)) ?? "")
        }
        XCTAssertEqual(order, ["new-high", "old-low", "new-low", "newest-low"])
        XCTAssertEqual(daemon.stop(), 0)
    }

    func testEachKindOfBadJobFailsWithItsReasonAndNothingElseIsTouched() throws {
        let spool = try makeSpool("bad")
        try spool.writeConfig(models: [
            TestSpool.tinyModel("tiny"),
            TestSpool.tinyModel("broken", checkpoint: spool.root.appendingPathComponent("missing.pt").path),
        ])
        let daemon = try DaemonProcess(spool)
        let good = TestSpool.job()
        let cases: [(name: String, text: String, reason: [String])] = [
            ("syntax", "version: 1\nmodel: [tiny\n", ["syntax.yaml:"]),
            ("typo", good + "setps: 4\n", ["typo.yaml:5:1:", "unknown key 'setps'", "did you mean", "'steps'"]),
            ("range", good + "steps: 5000\n", ["range.yaml:5:8:", "'steps'"]),
            ("model", "version: 1\nmodel: nosuch\nclass: 1\n", ["model.yaml:2:8:", "nosuch"]),
            ("class", "version: 1\nmodel: tiny\nclass: 9\n", ["class.yaml:3:8:", "class"]),
            ("escape", good + "output: \"../../escape-{seed}.mp4\"\n", ["escape.yaml:5:9:", "output"]),
            ("empty", "", ["empty.yaml", "empty"]),
            ("version", "version: 2\nmodel: tiny\nclass: 1\n", ["version.yaml:1:10:", "version"]),
            (
                "broken", "version: 1\nmodel: broken\nclass: 1\n",
                ["broken.yaml:2:8:", "model 'broken' is unusable: checkpoint", "missing.pt does not exist"]
            ),
        ]
        for c in cases { try spool.submit("\(c.name).yaml", c.text) }
        try Data([0xFF, 0xFE, 0x00, 0x41]).write(to: spool.spool.appendingPathComponent("incoming/binary.yaml"))
        try Data("not a job".utf8).write(to: spool.spool.appendingPathComponent("incoming/notes.txt"))

        try waitUntil("every bad job in failed/") { spool.list("failed").count == cases.count + 1 }
        XCTAssertEqual(spool.list("failed"), (cases.map(\.name) + ["binary"]).sorted())
        for c in cases {
            let record = spool.result("failed", c.name)
            XCTAssertEqual(Records.value("status", in: record), "failed", record)
            let reason = Records.value("reason", in: record) ?? ""
            for needle in c.reason {
                XCTAssertTrue(reason.contains(needle), "\(c.name): reason lacks \(needle.debugDescription): \(reason)")
            }
            XCTAssertEqual(
                spool.text("failed", c.name, "job.yaml"), c.text, "\(c.name): the job file must be kept as is")
        }
        XCTAssertTrue(spool.result("failed", "typo").contains("diagnostics:\n  - file: typo.yaml\n    line: 5\n"))
        // The broken model is refused with its file's problem, at the job's `model:` line.
        XCTAssertTrue(spool.result("failed", "broken").contains("diagnostics:\n  - file: broken.yaml\n    line: 2\n"))
        XCTAssertNotNil(Records.value("reason", in: spool.result("failed", "binary")))
        // Nothing else touched: no outputs, nothing done or left behind, the stray file stays.
        XCTAssertEqual(spool.outputs(), [])
        XCTAssertEqual(spool.list("done"), [])
        XCTAssertEqual(spool.list("processing"), [])
        XCTAssertEqual(spool.list("incoming"), ["notes.txt"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: spool.root.appendingPathComponent("escape-1.mp4").path))

        // The daemon is still healthy.
        try spool.submit("after.yaml", good)
        try waitUntil("after.yaml in done/") { spool.list("done") == ["after"] }
        XCTAssertEqual(daemon.stop(), 0, daemon.logText)
    }
}
