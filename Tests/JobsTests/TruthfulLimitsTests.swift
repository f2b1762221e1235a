// Validation tells the truth (issue 14, item 7): a job listing more seeds than limits.max_videos_per_job
// is told that limit, not a hint about YAML aliases (written-out nodes are bounded by the file size,
// only what aliases add counts against YAMLParser.maxNodes); a real alias bomb is still caught with the
// alias hint; and a job naming a model whose files failed their check gets that problem, at its
// `model:` line, instead of a verdict drawn from the entry's unconfirmed facts.

import Foundation
import Jobs
import XCTest

final class TruthfulLimitsTests: XCTestCase {
    /// A job for `model` with `count` seeds 0..<count, as one flow sequence on line 3.
    private func manySeeds(_ count: Int, model: String = "sky") -> String {
        "version: 1\nmodel: \(model)\nseeds: [" + (0..<count).map(String.init).joined(separator: ", ") + "]\n"
    }

    func testHundredThousandSeedsGetTheVideoLimitNotTheAliasHint() {
        let text = manySeeds(100_000)
        XCTAssertLessThan(text.utf8.count, YAMLParser.maxBytes, "the job must fit the file size limit")
        let d = diagnostics { try validate(text) }
        assertDiagnostic(
            d, 3, 8, "'seeds' lists 100000 seeds; at most 4 videos per job (limits.max_videos_per_job)")
        XCTAssertEqual(d.count, 1, "\(d.map(\.description))")
        XCTAssertTrue(d.first?.hint.contains("at most 4 seeds") ?? false, "\(d.map(\.description))")
        XCTAssertFalse(d.contains { $0.hint.contains("alias") }, "\(d.map(\.description))")
    }

    func testSeedLimitFollowsTheConfig() throws {
        let text = testConfigText.replacingOccurrences(of: "max_videos_per_job: 4", with: "max_videos_per_job: 64")
        let config = try DaemonConfig.parse(text, file: "skipdit.yaml", directory: URL(fileURLWithPath: "/etc"))
        let d = diagnostics { try JobFile.validate(manySeeds(100_000), file: "many.yaml", config: config) }
        assertDiagnostic(d, 3, 8, "'seeds' lists 100000 seeds; at most 64 videos per job (limits.max_videos_per_job)")
        XCTAssertEqual(try JobFile.validate(manySeeds(64), file: "ok.yaml", config: config).videos.count, 64)
    }

    func testManySeedsParseAsAFormatWithoutConfig() throws {
        let spec = try JobSpec.parse(manySeeds(120_000), file: "many.yaml")
        XCTAssertEqual(spec.seeds?.count, 120_000)
    }

    func testAliasBombInSeedsStillGetsTheAliasHint() {
        var text = "version: 1\nmodel: sky\nx0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
        for i in 1...6 {
            text += "x\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let d = diagnostics { try validate(text) }
        XCTAssertEqual(d.count, 1, "\(d.map(\.description))")
        XCTAssertTrue(d.first?.message.contains("more than \(YAMLParser.maxNodes) nodes") ?? false, "\(d)")
        XCTAssertTrue(d.first?.hint.contains("alias") ?? false, "\(d)")
    }

    // MARK: model problems

    /// The test config with `ghost` (demo preset, no class count: the entry calls it unconditional)
    /// and a problem recorded for it, as Render's ModelFileCheck would.
    private func configWithBrokenGhost() throws -> DaemonConfig {
        let text = testConfigText.replacingOccurrences(
            of: "  t2v:\n",
            with: "  ghost:\n    preset: demo\n    checkpoint: models/ghost.pt\n    vae: vae\n  t2v:\n")
        var config = try DaemonConfig.parse(text, file: "skipdit.yaml", directory: URL(fileURLWithPath: "/etc/skipdit"))
        config.modelProblems["ghost"] = ModelProblem(
            model: "ghost", key: "checkpoint", path: "/etc/skipdit/models/ghost.pt", kind: .missing,
            reason: "does not exist", hint: "fix `checkpoint:` of model 'ghost'")
        return config
    }

    func testJobForABrokenModelGetsTheProblemNotAGuessedFact() throws {
        let config = try configWithBrokenGhost()
        let d = diagnostics {
            try JobFile.validate("version: 1\nmodel: ghost\nclass: 1\nguidance: 3\n", file: "g.yaml", config: config)
        }
        assertDiagnostic(
            d, 2, 8, "model 'ghost' is unusable: checkpoint /etc/skipdit/models/ghost.pt does not exist")
        XCTAssertEqual(d.count, 1, "\(d.map(\.description))")
        XCTAssertFalse(d.contains { $0.message.contains("unconditional") }, "\(d.map(\.description))")
        // The other models are not affected.
        XCTAssertEqual(
            try JobFile.validate("version: 1\nmodel: sky\n", file: "s.yaml", config: config).model.name, "sky")
    }

    func testModelProblemIsAConfigDiagnosticAtThePathItNames() throws {
        let config = try configWithBrokenGhost()
        XCTAssertEqual(config.modelDiagnostics.count, 1)
        let d = try XCTUnwrap(config.modelDiagnostics.first)
        XCTAssertEqual(d.file, "skipdit.yaml")
        XCTAssertEqual([d.line, d.column], [18, 17], d.description)
        XCTAssertTrue(d.description.contains("model 'ghost' is unusable: checkpoint /etc/skipdit/models/ghost.pt"))
        XCTAssertFalse(d.hint.isEmpty)
        // A defaulted text-to-video VAE points at `base:`.
        let vae = ModelProblem(
            model: "t2v", key: "vae", path: "/etc/skipdit/Latte-0/vae_temporal_decoder", kind: .missing,
            reason: "does not exist", hint: "h")
        let t2v = config.diagnostic(for: vae)
        XCTAssertEqual([t2v.line, t2v.column], [21, 11], t2v.description)
        XCTAssertTrue(try testConfig().modelDiagnostics.isEmpty, "Jobs alone never reports model problems")
    }
}
