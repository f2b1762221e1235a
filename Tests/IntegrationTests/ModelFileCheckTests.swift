// ModelFileCheckTests: `skipdit validate --config` checks each model's files (exist, readable, parse;
// headers only) and names the file that is wrong, at its line in the config, with a reason and a hint;
// a job for a broken model is told that problem, not a guessed fact; a job over the seed limit is told
// the limit. The daemon refuses only the broken model: the healthy model's jobs keep rendering, and a
// model fixed on disk serves again without a reload; a reload checks the files again.

import Foundation
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

final class ModelFileCheckTests: DaemonTestCase {
    private let c2v = Fixtures.suite("c2v").appendingPathComponent("ckpt_cond.pt")
    private let vae = Fixtures.suite("vae").appendingPathComponent("model/diffusers_safetensors")

    /// A class-to-video entry on the tiny fixture's sizes; `numClasses` nil leaves the count out (the
    /// demo preset then makes the entry unconditional).
    private func entry(_ name: String, checkpoint: URL? = nil, vae: URL? = nil, numClasses: Int? = 5) -> String {
        """
          \(name):
            preset: demo
            checkpoint: \((checkpoint ?? c2v).path)
            vae: \((vae ?? self.vae).path)
            heads: 2
        """ + (numClasses.map { "\n    num_classes: \($0)" } ?? "")
    }

    /// 4 KiB of deterministic bytes that are no checkpoint format (no zip, pickle, JSON or safetensors start).
    private func garbage() -> Data {
        var state: UInt32 = 12345
        var bytes = (0..<4096).map { _ -> UInt8 in
            state = state &* 1_103_515_245 &+ 12345
            return UInt8(truncatingIfNeeded: state >> 16)
        }
        bytes.replaceSubrange(0..<9, with: Array("GARBAGE!!".utf8))
        return Data(bytes)
    }

    /// 1-based line and column of the first occurrence of `needle` in `text`.
    private func position(of needle: String, in text: String) -> (line: Int, column: Int)? {
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if let r = line.range(of: needle) {
                return (i + 1, line.distance(from: line.startIndex, to: r.lowerBound) + 1)
            }
        }
        return nil
    }

    /// The output of `skipdit ARGS` run as user nobody (setpriv), or nil where that is not possible.
    private func runAsNobody(_ arguments: [String]) throws -> String? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return nil }
        let text = try SkipditBinary.run(arguments, user: "nobody").output
        // It ran as nobody if it got as far as the model checks (the missing model is reported either way).
        return text.contains("model 'missing' is unusable") ? text : nil
    }

    func testValidateNamesEachBrokenModelFile() throws {
        let spool = try makeSpool("check")
        let root = spool.root
        let fm = FileManager.default
        let missing = root.appendingPathComponent("missing.pt")
        let junk = root.appendingPathComponent("garbage.pt")
        try garbage().write(to: junk)
        let truncated = root.appendingPathComponent("truncated.pt")
        let whole = try Data(contentsOf: c2v)
        try whole.prefix(whole.count / 2).write(to: truncated)
        let locked = root.appendingPathComponent("locked.pt")
        try fm.copyItem(at: c2v, to: locked)
        try fm.setAttributes([.posixPermissions: 0], ofItemAtPath: locked.path)
        defer { try? fm.setAttributes([.posixPermissions: 0o644], ofItemAtPath: locked.path) }
        let noVAE = root.appendingPathComponent("no-vae")
        let badVAE = root.appendingPathComponent("bad-vae")
        try fm.createDirectory(at: badVAE, withIntermediateDirectories: true)
        try fm.copyItem(at: vae.appendingPathComponent("config.json"), to: badVAE.appendingPathComponent("config.json"))
        let badWeights = badVAE.appendingPathComponent("diffusion_pytorch_model.safetensors")
        try garbage().write(to: badWeights)
        // Single-file VAEs: without config.json the fixture's widths refuse diffusers' 32 groups; with
        // the config.json beside the file it is healthy.
        let ldmVAE = Fixtures.suite("vae").appendingPathComponent("model/ldm_safetensors/vae.safetensors")
        let ldmFolder = root.appendingPathComponent("ldm-vae")
        try fm.createDirectory(at: ldmFolder, withIntermediateDirectories: true)
        let ldmBeside = ldmFolder.appendingPathComponent("vae.safetensors")
        try fm.copyItem(at: ldmVAE, to: ldmBeside)
        try fm.copyItem(
            at: vae.appendingPathComponent("config.json"), to: ldmFolder.appendingPathComponent("config.json"))

        try spool.writeConfig(models: [
            entry("tiny"), entry("missing", checkpoint: missing), entry("garbage", checkpoint: junk),
            entry("truncated", checkpoint: truncated), entry("locked", checkpoint: locked),
            entry("novae", vae: noVAE), entry("badvae", vae: badVAE), entry("vaefile", vae: c2v),
            entry("ldmvae", vae: ldmVAE), entry("ldmbeside", vae: ldmBeside), entry("guessed", numClasses: nil),
        ])
        let configText = try String(contentsOf: spool.config, encoding: .utf8)
        let (status, output) = try spool.command(["validate"])
        XCTAssertEqual(status, 1, output)
        XCTAssertFalse(output.contains(": ok"), output)
        XCTAssertFalse(output.contains("model 'tiny'"), "the healthy model is not reported:\n\(output)")
        XCTAssertFalse(
            output.contains("model 'ldmbeside'"), "a single-file VAE with config.json is healthy:\n\(output)")

        var expected = [
            "model 'missing' is unusable: checkpoint \(missing.path) does not exist",
            "model 'garbage' is unusable: checkpoint \(junk.path) is not a checkpoint",
            "model 'truncated' is unusable: checkpoint \(truncated.path) is not a valid PyTorch zip checkpoint",
            "model 'novae' is unusable: vae \(noVAE.path) does not exist",
            "model 'badvae' is unusable: vae \(badWeights.path) is not a checkpoint",
            "model 'vaefile' is unusable: vae \(c2v.path) is not laid out as expected",
            "model 'ldmvae' is unusable: vae \(ldmVAE.path) is not a usable VAE config: the tensors describe block_out_channels [8, 16, 32, 32], which norm_num_groups 32",
            "model 'guessed' is unusable: checkpoint \(c2v.path) is class-conditional with 5 classes, but the entry makes the model unconditional",
        ]
        let unreadable = "model 'locked' is unusable: checkpoint \(locked.path) cannot be read: Permission denied"
        if getuid() != 0 {
            expected.append(unreadable)
        } else {
            // Root reads any file, whatever its mode: check as an unprivileged user where one can be had.
            XCTAssertFalse(output.contains("model 'locked'"), output)
            if let nobody = try runAsNobody(["validate", "--config", spool.config.path]) {
                XCTAssertTrue(
                    nobody.contains(unreadable), "as nobody, lacks \(unreadable.debugDescription):\n\(nobody)")
            }
        }
        for needle in expected {
            XCTAssertTrue(output.contains(needle), "lacks \(needle.debugDescription):\n\(output)")
        }
        XCTAssertEqual(output.components(separatedBy: "\n  hint: ").count - 1, expected.count, output)
        // Each problem sits at the line of the path it is about.
        let at = try XCTUnwrap(position(of: missing.path, in: configText))
        XCTAssertTrue(
            output.contains("\(spool.config.path):\(at.line):\(at.column): error: model 'missing' is unusable"), output)
    }

    func testHealthyConfigsValidateOk() throws {
        let spool = try makeSpool("healthy")
        try spool.writeConfig(models: [TestSpool.tinyModel("tiny"), TestSpool.tinyTextToVideoModel("words")])
        let (status, output) = try spool.command(["validate"])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("\(spool.config.path): ok"), output)

        let demo = SkipditBinary.repositoryRoot.appendingPathComponent("etc/skipdit/demo.yaml")
        let shipped = try SkipditBinary.run(["validate", "--config", demo.path])
        XCTAssertEqual(shipped.status, 0, shipped.output)
        XCTAssertTrue(shipped.output.contains("demo.yaml: ok"), shipped.output)
    }

    func testIncompleteTextToVideoFolderNamesTheMissingPart() throws {
        let spool = try makeSpool("t2v")
        let base = spool.root.appendingPathComponent("Latte-0")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let fixture = Fixtures.suite("t2v").appendingPathComponent("model")
        for part in ["transformer", "text_encoder", "scheduler"] {  // no tokenizer/
            try FileManager.default.createSymbolicLink(
                at: base.appendingPathComponent(part), withDestinationURL: fixture.appendingPathComponent(part))
        }
        let words = TestSpool.tinyTextToVideoModel("words").replacingOccurrences(of: fixture.path, with: base.path)
        try spool.writeConfig(models: [TestSpool.tinyModel("tiny"), words])
        let (status, output) = try spool.command(["validate"])
        XCTAssertEqual(status, 1, output)
        let tokenizer = base.appendingPathComponent("tokenizer").path
        XCTAssertTrue(output.contains("model 'words' is unusable: base \(tokenizer) does not exist"), output)
        XCTAssertTrue(output.contains("hint: the pipeline's tokenizer/ folder belongs there"), output)
    }

    func testJobsAreToldTheModelProblemAndTheSeedLimit() throws {
        let spool = try makeSpool("jobs")
        let ghost = spool.root.appendingPathComponent("ghost.pt")
        try spool.writeConfig(models: [TestSpool.tinyModel("tiny"), entry("ghost", checkpoint: ghost, numClasses: nil)])
        let jobs = spool.root.appendingPathComponent("jobs")
        try FileManager.default.createDirectory(at: jobs, withIntermediateDirectories: true)
        let files: [(String, String)] = [
            ("ghost.yaml", "version: 1\nmodel: ghost\nclass: 1\n"), ("tiny.yaml", TestSpool.job()),
            ("many.yaml", TestSpool.job(seeds: Array(0..<100_000))),
        ]
        for (name, text) in files { try Data(text.utf8).write(to: jobs.appendingPathComponent(name)) }
        let (status, output) = try spool.command(["validate"] + files.map { jobs.appendingPathComponent($0.0).path })
        XCTAssertEqual(status, 1, output)
        let ghostJob = jobs.appendingPathComponent("ghost.yaml").path
        XCTAssertTrue(
            output.contains(
                "\(ghostJob):2:8: error: model 'ghost' is unusable: checkpoint \(ghost.path) does not exist"), output)
        XCTAssertFalse(output.contains("unconditional"), "no guessed fact about the broken model:\n\(output)")
        XCTAssertTrue(output.contains("\(jobs.appendingPathComponent("tiny.yaml").path): ok (tiny, 1 video"), output)
        let many = jobs.appendingPathComponent("many.yaml").path
        XCTAssertTrue(
            output.contains(
                "\(many):4:8: error: 'seeds' lists 100000 seeds; at most 64 videos per job (limits.max_videos_per_job)"),
            output)
        XCTAssertFalse(output.contains("alias"), output)
    }

    func testDaemonRefusesOnlyTheBrokenModel() throws {
        let spool = try makeSpool("refuse")
        let missing = spool.root.appendingPathComponent("missing.pt")
        try spool.writeConfig(models: [TestSpool.tinyModel("tiny"), entry("broken", checkpoint: missing)])
        let daemon = try DaemonProcess(spool)
        try spool.submit("bad.yaml", "version: 1\nmodel: broken\nclass: 1\n")
        try spool.submit("many.yaml", TestSpool.job(seeds: Array(0..<100_000)))
        try spool.submit("good.yaml", TestSpool.job(seeds: [1]))
        try waitUntil("good done, bad and many failed") {
            spool.list("done") == ["good"] && spool.list("failed") == ["bad", "many"]
        }
        XCTAssertEqual(spool.outputs(), ["good-1.mp4", "good-1.png"])
        let bad = Records.value("reason", in: spool.result("failed", "bad")) ?? ""
        XCTAssertTrue(bad.contains("model 'broken' is unusable: checkpoint \(missing.path) does not exist"), bad)
        XCTAssertFalse(bad.contains("unconditional"), bad)
        let many = Records.value("reason", in: spool.result("failed", "many")) ?? ""
        XCTAssertTrue(many.contains("'seeds' lists 100000 seeds; at most 64 videos per job"), many)
        XCTAssertTrue(daemon.logText.contains("model 'broken' is unusable: checkpoint \(missing.path)"), daemon.logText)

        // Fixed on disk: the model serves again without a reload.
        try FileManager.default.copyItem(at: c2v, to: missing)
        try spool.submit("healed.yaml", "version: 1\nmodel: broken\nclass: 1\nseeds: [2]\n")
        try waitUntil("healed done") { spool.list("done") == ["good", "healed"] }
        XCTAssertTrue(daemon.logText.contains("model 'broken' passes its file check now"), daemon.logText)

        // Broken again and reloaded: the reload checks the files too and refuses the model.
        try garbage().write(to: missing)
        daemon.signal(SIGHUP)
        try waitUntil("the reload") { daemon.logText.contains("model(s) (unusable: broken)") }
        try spool.submit("again.yaml", "version: 1\nmodel: broken\nclass: 1\n")
        try waitUntil("again failed") { spool.list("failed") == ["again", "bad", "many"] }
        let again = Records.value("reason", in: spool.result("failed", "again")) ?? ""
        XCTAssertTrue(
            again.contains("model 'broken' is unusable: checkpoint \(missing.path) is not a checkpoint"), again)
        XCTAssertEqual(daemon.stop(), 0, daemon.logText)
    }
}
