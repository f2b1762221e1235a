// Tests of job validation: each kind of error at its exact line:column with a hint, did-you-mean,
// type and range errors, config-dependent checks and the config's limits.

import Foundation
import Jobs
import XCTest

final class JobValidationTests: XCTestCase {
    func testUnknownKeyWithSuggestion() {
        let d = diagnostics { try validate("version: 1\nmodel: ucf101\nclass: Biking\nstpes: 50\n") }
        XCTAssertEqual(d.count, 1)
        assertDiagnostic(d, 4, 1, "unknown key 'stpes' in the job; did you mean 'steps'?")
        XCTAssertEqual(
            d.first?.description.components(separatedBy: "\n").first,
            "jobs/x.yaml:4:1: error: unknown key 'stpes' in the job; did you mean 'steps'?")
        XCTAssertTrue(d.first?.description.contains("\n  hint: known keys:") ?? false)
    }

    func testUnknownNestedKey() {
        let d = diagnostics { try validate("version: 1\nmodel: ucf101\nclass: 3\ncache: { intervall: 2 }\n") }
        assertDiagnostic(d, 4, 10, "unknown key 'intervall' in 'cache'; did you mean 'interval'?")
    }

    func testTypeErrors() {
        let text = """
            version: 1
            model: ucf101
            class: Biking
            steps: "fifty"
            guidance: high
            fps: 8.5
            seeds: {a: 1}
            sampler: [ddim]
            output: 12
            """
        let d = diagnostics { try validate(text) }
        assertDiagnostic(d, 4, 8, "'steps' must be an integer, not the string \"fifty\"")
        XCTAssertTrue(d.first { $0.line == 4 }?.hint.contains("remove the quotes") ?? false)
        assertDiagnostic(d, 5, 11, "'guidance' must be a number")
        assertDiagnostic(d, 6, 6, "'fps' must be an integer, not the number 8.5")
        assertDiagnostic(d, 7, 8, "'seeds' must be a list of integers, not a mapping")
        assertDiagnostic(d, 8, 10, "'sampler' must be a string, not a sequence")
        assertDiagnostic(d, 9, 9, "output '12' must name an .mp4 file")
        XCTAssertEqual(d.count, 6)
    }

    func testQuotedNumberIsAString() {
        let d = diagnostics { try validate("version: 1\nmodel: ucf101\nclass: \"7\"\n") }
        assertDiagnostic(d, 3, 8, "unknown class '7'")
        XCTAssertEqual(try validate("version: 1\nmodel: ucf101\nclass: 7\n").classIndex, 7)
    }

    func testRanges() {
        let text = """
            version: 1
            model: ucf101
            class: 0
            steps: 0
            guidance: 0.5
            fps: 500
            priority: 5000
            cache: { interval: 0, start: 1200 }
            seeds: [-1]
            """
        let d = diagnostics { try validate(text) }
        assertDiagnostic(d, 4, 8, "'steps' is 0, outside 1...1000")
        assertDiagnostic(d, 5, 11, "'guidance' is 0.5, outside 1.0...100.0")
        assertDiagnostic(d, 6, 6, "'fps' is 500, outside 1...120")
        assertDiagnostic(d, 7, 11, "'priority' is 5000, outside -1000...1000")
        assertDiagnostic(d, 8, 20, "'cache.interval' is 0")
        assertDiagnostic(d, 8, 30, "'cache.start' is 1200")
        assertDiagnostic(d, 9, 9, "'seeds' is -1, outside 0 or more")
        XCTAssertEqual(d.count, 7)
    }

    func testNonFiniteGuidance() {
        let d = diagnostics { try validate("version: 1\nmodel: ucf101\nclass: 0\nguidance: .nan\n") }
        assertDiagnostic(d, 4, 11, "'guidance' is .nan")
    }

    func testCacheStartMustBeAboveStop() {
        let d = diagnostics { try validate("version: 1\nmodel: ucf101\nclass: 0\ncache: { start: 40 }\n") }
        assertDiagnostic(d, 4, 8, "cache start 40 must be above stop 50")
    }

    func testVersion() {
        assertDiagnostic(
            diagnostics { try validate("model: ucf101\nclass: 0\n") }, 1, 1, "missing the required key 'version'")
        assertDiagnostic(
            diagnostics { try validate("version: 2\nmodel: ucf101\nclass: 0\n") }, 1, 10,
            "unsupported job format version 2")
    }

    func testEmptyAndNonMappingJobs() {
        assertDiagnostic(diagnostics { try validate("") }, 0, 0, "the job file is empty")
        assertDiagnostic(diagnostics { try validate("- a\n- b\n") }, 1, 1, "the job must be a mapping, not a sequence")
    }

    func testUnknownModelListsKnown() {
        let d = diagnostics { try validate("version: 1\nmodel: ucf10\nclass: 0\n") }
        assertDiagnostic(d, 2, 8, "unknown model 'ucf10'; did you mean 'ucf101'?")
        XCTAssertTrue(d.first?.hint.contains("ucf101, sky, tiny, t2v") ?? false)
    }

    func testClassChecks() {
        assertDiagnostic(
            diagnostics { try validate("version: 1\nmodel: ucf101\nclass: biking\n") }, 3, 8, "did you mean 'Biking'?")
        assertDiagnostic(
            diagnostics { try validate("version: 1\nmodel: ucf101\nclass: 101\n") }, 3, 8,
            "class index 101 is out of range")
        assertDiagnostic(diagnostics { try validate("version: 1\nmodel: ucf101\n") }, 1, 1, "needs 'class'")
        assertDiagnostic(
            diagnostics { try validate("version: 1\nmodel: sky\nclass: 3\n") }, 3, 8,
            "is unconditional and takes no 'class'")
        assertDiagnostic(
            diagnostics { try validate("version: 1\nmodel: tiny\nclass: Biking\n") }, 3, 8, "has no class names")
        XCTAssertEqual(try validate("version: 1\nmodel: tiny\nclass: 4\n").classIndex, 4)
        let plan = try? validate("version: 1\nmodel: ucf101\nclass: HammerThrow\n")
        XCTAssertEqual(plan?.classIndex, UCF101.classes.firstIndex(of: "HammerThrow"))
        XCTAssertEqual(plan?.classIndex, 34)
    }

    func testTaskAndPromptChecks() {
        assertDiagnostic(
            diagnostics { try validate("version: 1\ntask: text-to-video\nmodel: ucf101\nclass: 0\n") }, 2, 7,
            "is class-to-video, not text-to-video")
        assertDiagnostic(diagnostics { try validate("version: 1\nmodel: t2v\n") }, 1, 1, "need a 'prompt'")
        assertDiagnostic(
            diagnostics { try validate("version: 1\nmodel: ucf101\nclass: 1\nprompt: hi\n") }, 4, 9,
            "'prompt' is for text-to-video")
        assertDiagnostic(
            diagnostics { try validate("version: 1\nmodel: t2v\nprompt: x\nsampler: ddpm\n") }, 4, 10, "ddim only")
        assertDiagnostic(
            diagnostics { try validate("version: 1\nmodel: t2v\nprompt: x\nclass: 2\n") }, 4, 8,
            "is text-to-video and takes no 'class'")
        assertDiagnostic(
            diagnostics { try validate("version: 1\nmodel: t2v\nprompt: \"\"\n") }, 3, 9, "'prompt' is empty")
    }

    func testGuidanceOnUnconditionalModel() {
        assertDiagnostic(
            diagnostics { try validate("version: 1\nmodel: sky\nguidance: 4\n") }, 3, 11, "guidance must be 1.0")
        XCTAssertEqual(try validate("version: 1\nmodel: sky\nguidance: 1\n").guidance, 1.0)
    }

    func testSeeds() {
        assertDiagnostic(
            diagnostics { try validate("version: 1\nmodel: sky\nseed: 1\nseeds: [2]\n") }, 4, 1,
            "either 'seed' or 'seeds'")
        assertDiagnostic(diagnostics { try validate("version: 1\nmodel: sky\nseeds: []\n") }, 3, 8, "'seeds' is empty")
        assertDiagnostic(
            diagnostics { try validate("version: 1\nmodel: sky\nseeds: [1, 2, 1]\n") }, 3, 15, "seed 1 is listed twice")
        assertDiagnostic(
            diagnostics { try validate("version: 1\nmodel: sky\nseed: 9223372036854775808\n") }, 3, 7,
            "'seed' must be an integer")
        XCTAssertEqual(
            try validate("version: 1\nmodel: sky\nseed: 9223372036854775807\n").videos.map(\.seed), [Int.max])
    }

    func testLimits() {
        assertDiagnostic(
            diagnostics { try validate("version: 1\nmodel: sky\nsteps: 301\n") }, 3, 8,
            "301 steps exceed limits.max_steps 300")
        assertDiagnostic(
            diagnostics { try validate("version: 1\nmodel: sky\nseeds: [1, 2, 3, 4, 5]\n") }, 3, 8,
            "'seeds' lists 5 seeds; at most 4 videos per job (limits.max_videos_per_job)")
        XCTAssertEqual(try validate("version: 1\nmodel: sky\nsteps: 300\nseeds: [1, 2, 3, 4]\n").videos.count, 4)
    }

    func testDefaultStepsAboveLimitIsReported() {
        let text = testConfigText.replacingOccurrences(of: "max_steps: 300", with: "max_steps: 100")
        let d = diagnostics { try DaemonConfig.parse(text, file: "c.yaml", directory: URL(fileURLWithPath: "/")) }
        assertDiagnostic(d, 8, 3, "model 'sky' defaults to 250 steps, above limits.max_steps 100")
    }

    func testAllErrorsCollected() {
        let text = "version: 1\nmodel: ucf101\nclass: Bikng\nstpes: 50\nfps: 0\noutput: /etc/x.mp4\n"
        let d = diagnostics { try validate(text) }
        XCTAssertEqual(d.map(\.line), [3, 4, 5, 6])
    }

    func testJobSpecParseAloneChecksFormat() throws {
        let spec = try JobSpec.parse(
            "version: 1\nmodel: ucf101\nclass: Biking\nseeds: [1, 2]\ncache: off\n", file: "a.yaml")
        XCTAssertEqual(spec.classLabel, .name("Biking"))
        XCTAssertEqual(spec.seeds, [1, 2])
        XCTAssertEqual(spec.sampling.cache, .off)
        XCTAssertEqual(spec.marks["seeds"], YAMLMark(line: 4, column: 8))
        assertDiagnostic(
            diagnostics { try JobSpec.parse("version: 1\nmodel: m\nfoo: 1\n", file: "a.yaml") }, 3, 1,
            "unknown key 'foo'")
    }

    func testValidateFromFileUsesFileNameForJob() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jobs-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("night-sky.yaml")
        try "version: 1\nmodel: sky\nseeds: [5, 6]\n".write(to: url, atomically: true, encoding: .utf8)
        let plan = try JobFile.validate(url, config: testConfig())
        XCTAssertEqual(plan.jobName, "night-sky")
        XCTAssertEqual(plan.videos.map(\.relativePath), ["night-sky-5.mp4", "night-sky-6.mp4"])
        XCTAssertEqual(plan.videos.first?.url.path, "/srv/videos/night-sky-5.mp4")
    }
}
