// TextToVideoJobTests: the real daemon renders a text-to-video job with the tiny fixture models
// (T5 + tokenizer, Latte-skip T2V transformer, temporal VAE) into an MP4, a poster and a result
// record that records the Skip-Cache steps.

import Foundation
import XCTest

final class TextToVideoJobTests: DaemonTestCase {
    func testTextToVideoJobRendersThroughTheDaemon() throws {
        let spool = try makeSpool("t2v")
        try spool.writeConfig(models: [TestSpool.tinyModel("tiny"), TestSpool.tinyTextToVideoModel("words")])
        let daemon = try DaemonProcess(spool)
        try spool.submit(
            "cat.yaml",
            """
            version: 1
            task: text-to-video
            model: words
            prompt: "A cat sleeping on a sunny windowsill while the rain falls outside."
            seeds: [5]
            cache: N2-700-50
            output: "t2v/cat-{seed}.mp4"

            """)
        try waitUntil("the job in done/") { spool.list("done") == ["cat"] || !spool.list("failed").isEmpty }
        XCTAssertEqual(spool.list("failed"), [], spool.list("failed").map { spool.result("failed", $0) }.joined())
        XCTAssertEqual(spool.outputs(), ["t2v/cat-5.mp4", "t2v/cat-5.png"])
        let video = try Data(contentsOf: spool.output.appendingPathComponent("t2v/cat-5.mp4"))
        XCTAssertEqual(String(decoding: video[4..<8], as: UTF8.self), "ftyp")
        let record = spool.result("done", "cat")
        XCTAssertTrue(record.contains("  prompt: "), record)
        // 4 DDIM steps (750, 500, 250, 0) with N2-700-50: full, cached, full, cached.
        XCTAssertTrue(record.contains("steps:\n  full: 2\n  cached: 2\n"), record)
        XCTAssertEqual(daemon.stop(), 0, daemon.logText)
    }
}
