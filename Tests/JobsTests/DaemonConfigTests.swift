// Tests of the daemon config: the shipped file and examples, presets and their defaults, model entry
// checks, relative path resolution, class lists from files, and errors at line:column.

import Foundation
import Jobs
import TestSupport
import XCTest

final class DaemonConfigTests: XCTestCase {
    private let etc = repoRoot.appendingPathComponent("etc/skipdit")

    func testShippedConfigAndExamplesValidate() throws {
        let config = try DaemonConfig.load(contentsOf: etc.appendingPathComponent("skipdit.yaml"))
        XCTAssertEqual(config.spool.path, "/var/spool/skipdit")
        XCTAssertEqual(config.output.path, "/var/lib/skipdit/videos")
        XCTAssertEqual(config.limits.maxFrames, 32)
        XCTAssertEqual(config.limits.maxSteps, 1000)
        XCTAssertEqual(config.limits.maxVideosPerJob, 64)
        XCTAssertEqual(config.compute.backend, .auto)
        XCTAssertEqual(config.compute.precision, .fp32)
        let ucf = try XCTUnwrap(config.model(named: "ucf101"))
        XCTAssertEqual(ucf.classes, UCF101.classes)
        XCTAssertEqual(ucf.checkpoint.path, "/var/lib/skipdit/models/ucf101-skip.pt")
        let jobs = try FileManager.default.contentsOfDirectory(
            at: etc.appendingPathComponent("jobs"), includingPropertiesForKeys: nil
        )
        .filter { $0.pathExtension == "yaml" }
        XCTAssertGreaterThanOrEqual(jobs.count, 3)
        // Each example names a model of one shipped config: the daemon's, or the demo's.
        let demo = try DaemonConfig.load(contentsOf: etc.appendingPathComponent("demo.yaml"))
        var tasks = Set<RenderTask>()
        var conditional = Set<Bool>()
        for job in jobs {
            let model = try JobSpec.load(contentsOf: job).model
            let shipped = config.model(named: model) != nil ? config : demo
            let plan = try JobFile.validate(job, config: shipped)
            tasks.insert(plan.task)
            conditional.insert(plan.model.isConditional)
            for video in plan.videos { XCTAssertTrue(video.url.path.hasPrefix(shipped.output.path + "/")) }
        }
        XCTAssertEqual(tasks, [.classToVideo, .textToVideo])
        XCTAssertEqual(conditional, [true, false])
    }

    func testBikingExampleResolvesToOfficialSettings() throws {
        let config = try DaemonConfig.load(contentsOf: etc.appendingPathComponent("skipdit.yaml"))
        let plan = try JobFile.validate(etc.appendingPathComponent("jobs/ucf101-biking.yaml"), config: config)
        XCTAssertEqual(plan.classIndex, 10)
        XCTAssertEqual(plan.className, "Biking")
        XCTAssertEqual(plan.sampler, .ddim)
        XCTAssertEqual(plan.steps, 50)
        XCTAssertEqual(plan.guidance, 7.0)
        XCTAssertEqual(plan.cache, SkipCacheSettings(interval: 2, start: 900, stop: 50))
        XCTAssertEqual(plan.videos.map(\.seed), [1, 2, 3])
        XCTAssertEqual(plan.videos.map(\.url.path), (1...3).map { "/var/lib/skipdit/videos/biking-\($0).mp4" })
        let t2v = try JobFile.validate(etc.appendingPathComponent("jobs/t2v-dog-surfing.yaml"), config: config)
        XCTAssertEqual(t2v.cache?.description, "N2-700-50")
        XCTAssertEqual(t2v.guidance, 7.5)
        XCTAssertEqual(t2v.negativePrompt, "")
        XCTAssertEqual(t2v.model.vae.path, "/var/lib/skipdit/models/Latte-0/vae_temporal_decoder")
    }

    func testPresetDefaults() throws {
        let config = try testConfig()
        let sky = try XCTUnwrap(config.model(named: "sky"))
        XCTAssertEqual(sky.preset, .sky)
        XCTAssertEqual(
            sky.defaults,
            SamplingDefaults(
                sampler: .ddpm, steps: 250, guidance: 1.0, cache: SkipCacheSettings(interval: 2, start: 900, stop: 50),
                fps: 8, seed: 0))
        XCTAssertFalse(sky.isConditional)
        let ucf = try XCTUnwrap(config.model(named: "ucf101"))
        XCTAssertEqual(ucf.defaults.sampler, .ddim)
        XCTAssertEqual(ucf.defaults.steps, 50)
        XCTAssertEqual(ucf.defaults.guidance, 7.0)
        XCTAssertEqual(ucf.defaults.seed, 2)
        XCTAssertEqual(ucf.numClasses, 101)
        let tiny = try XCTUnwrap(config.model(named: "tiny"))
        XCTAssertEqual(tiny.numClasses, 5)
        XCTAssertNil(tiny.classes)
        XCTAssertEqual(tiny.checkpoint.path, "/etc/skipdit/tiny.pt")
        XCTAssertEqual(config.spool.path, "/etc/skipdit/spool")
        let t2v = try XCTUnwrap(config.model(named: "t2v"))
        XCTAssertEqual(t2v.task, .textToVideo)
        XCTAssertEqual(t2v.base?.path, "/etc/skipdit/Latte-0")
        XCTAssertEqual(ModelPreset.ffs.defaults.seed, 1)
        XCTAssertEqual(ModelPreset.taichi.defaults.sampler, .ddpm)
    }

    func testJobOverridesAndCacheForms() throws {
        let plan = try validate(
            "version: 1\nmodel: ucf101\nclass: 1\nsampler: ddpm\nsteps: 250\nguidance: 1\ncache: off\nfps: 24\npriority: -3\n"
        )
        XCTAssertEqual(plan.sampler, .ddpm)
        XCTAssertEqual(plan.steps, 250)
        XCTAssertFalse(plan.usesGuidance)
        XCTAssertNil(plan.cache)
        XCTAssertEqual(plan.fps, 24)
        XCTAssertEqual(plan.priority, -3)
        XCTAssertEqual(
            try validate("version: 1\nmodel: ucf101\nclass: 1\ncache: N3-800-20\n").cache,
            SkipCacheSettings(interval: 3, start: 800, stop: 20))
        XCTAssertEqual(try validate("version: 1\nmodel: ucf101\nclass: 1\ncache: 4\n").cache?.interval, 4)
        XCTAssertEqual(try validate("version: 1\nmodel: ucf101\nclass: 1\ncache: false\n").cache, nil)
        XCTAssertEqual(
            try validate("version: 1\nmodel: t2v\nprompt: p\ncache: { interval: 3 }\n").cache,
            SkipCacheSettings(interval: 3, start: 700, stop: 50))
        assertDiagnostic(
            diagnostics { try validate("version: 1\nmodel: ucf101\nclass: 1\ncache: sometimes\n") }, 4, 8,
            "'cache' must be")
    }

    func testRecordValueRoundTrips() throws {
        let plan = try validate("version: 1\nmodel: ucf101\nclass: Biking\nseeds: [4, 5]\n")
        let text = plan.recordValue.yaml
        XCTAssertEqual(try YAMLParser.parse(text, file: "r").map(YAMLValue.init), plan.recordValue)
        XCTAssertTrue(text.contains("class: Biking\n"), text)
        XCTAssertTrue(
            text.hasSuffix(
                "videos:\n  - index: 0\n    seed: 4\n    output: x-4.mp4\n  - index: 1\n    seed: 5\n    output: x-5.mp4\n"
            ), text)
    }

    func testConfigErrors() {
        let text = """
            spool: /s
            outptu: /o
            models:
              ucf101:
                checkpoint: a.pt
                classes: ucf101
                vea: v
              mine:
                checkpoint: m.pt
                vae: v
              t2:
                task: text-to-video
                checkpoint: c.pt
                classes: ucf101
            compute:
              backend: cuda
            limits:
              max_steps: 5000
            """
        let d = diagnostics { try DaemonConfig.parse(text, file: "c.yaml", directory: URL(fileURLWithPath: "/")) }
        assertDiagnostic(d, 1, 1, "missing the required key 'output'")
        assertDiagnostic(d, 2, 1, "unknown key 'outptu' in the config; did you mean 'output'?")
        assertDiagnostic(d, 4, 3, "model 'ucf101' is missing the required key 'vae'")
        assertDiagnostic(d, 7, 5, "unknown key 'vea' in model 'ucf101'; did you mean 'vae'?")
        assertDiagnostic(d, 8, 3, "does not say which dataset defaults it uses")
        assertDiagnostic(d, 11, 3, "model 't2' is missing the required key 'base'")
        assertDiagnostic(d, 14, 5, "'classes' is for class-to-video models")
        assertDiagnostic(d, 16, 12, "'backend' must be 'auto', 'onednn' or 'openblas', not 'cuda'")
        assertDiagnostic(d, 18, 14, "'max_steps' is 5000, outside 1...1000")
        XCTAssertEqual(d.count, 9, d.map(\.description).joined(separator: "\n"))
    }

    func testModelDefaultsBlock() throws {
        let text = """
            spool: /s
            output: /o
            models:
              taichi:
                checkpoint: t.pt
                vae: v
                defaults: { sampler: ddim, steps: 40, cache: { interval: 3 }, seed: 11 }
              bad:
                preset: ffs
                checkpoint: t.pt
                vae: v
                defaults: { guidance: 3, stepz: 4, negative_prompt: x }
            """
        let d = diagnostics { try DaemonConfig.parse(text, file: "c.yaml", directory: URL(fileURLWithPath: "/")) }
        assertDiagnostic(d, 12, 27, "an unconditional model has no guidance")
        assertDiagnostic(d, 12, 30, "unknown key 'stepz' in 'defaults'; did you mean 'steps'?")
        assertDiagnostic(d, 12, 40, "'negative_prompt' is for text-to-video models")
        let good = try DaemonConfig.parse(
            text.components(separatedBy: "\n").prefix(7).joined(separator: "\n"), file: "c.yaml",
            directory: URL(fileURLWithPath: "/"))
        let taichi = try XCTUnwrap(good.model(named: "taichi"))
        XCTAssertEqual(
            taichi.defaults,
            SamplingDefaults(
                sampler: .ddim, steps: 40, guidance: 1.0, cache: SkipCacheSettings(interval: 3, start: 900, stop: 50),
                fps: 8, seed: 11))
    }

    func testTextToVideoFrames() throws {
        let text = """
            spool: /s
            output: /o
            models:
              t2v:
                base: L
                checkpoint: c.pt
              short:
                task: text-to-video
                base: L
                checkpoint: c.pt
                frames: 8
              long:
                task: text-to-video
                base: L
                checkpoint: c.pt
                frames: 64
              ucf101:
                checkpoint: u.pt
                vae: v
                classes: ucf101
                frames: 8
            """
        let d = diagnostics { try DaemonConfig.parse(text, file: "c.yaml", directory: URL(fileURLWithPath: "/")) }
        assertDiagnostic(d, 16, 13, "'frames' is 64, outside 1...32")
        assertDiagnostic(d, 21, 5, "'frames' is for text-to-video models")
        XCTAssertEqual(d.count, 2, d.map(\.description).joined(separator: "\n"))
        let good = try DaemonConfig.parse(
            text.components(separatedBy: "\n").prefix(11).joined(separator: "\n"), file: "c.yaml",
            directory: URL(fileURLWithPath: "/"))
        XCTAssertEqual(try XCTUnwrap(good.model(named: "t2v")).frames, ModelEntry.defaultTextToVideoFrames)
        XCTAssertEqual(ModelEntry.defaultTextToVideoFrames, 16, "the official sample config's video_length")
        XCTAssertEqual(try XCTUnwrap(good.model(named: "short")).frames, 8)
    }

    func testNotifySection() throws {
        let head = "spool: /s\noutput: /o\nmodels:\n  sky:\n    checkpoint: s.pt\n    vae: v\n"
        let good = try DaemonConfig.parse(
            head + """
                notify:
                  job_end: [/usr/bin/curl, -fsS, --data-binary, "@-", "https://hooks.example/x"]
                  queue_drained: [mail-batch-done]
                  on: [failed, cancelled]
                  timeout_seconds: 5
                """, file: "c.yaml", directory: URL(fileURLWithPath: "/"))
        XCTAssertEqual(good.notify.jobEnd, ["/usr/bin/curl", "-fsS", "--data-binary", "@-", "https://hooks.example/x"])
        XCTAssertEqual(good.notify.queueDrained, ["mail-batch-done"])
        XCTAssertEqual(good.notify.on, [.failed, .cancelled])
        XCTAssertEqual(good.notify.timeoutSeconds, 5)
        let none = try DaemonConfig.parse(head, file: "c.yaml", directory: URL(fileURLWithPath: "/"))
        XCTAssertTrue(none.notify.isEmpty)
        XCTAssertEqual(none.notify.on, Set(JobEnding.allCases), "every ending notifies by default")

        let bad =
            head + """
                notify:
                  job_end: "mail -s done root"
                  queue_drained: []
                  on: [done, finished]
                  timeout_seconds: 0
                  when: always
                """
        let d = diagnostics { try DaemonConfig.parse(bad, file: "c.yaml", directory: URL(fileURLWithPath: "/")) }
        assertDiagnostic(d, 8, 12, "'job_end' must be a command as a list of arguments")
        assertDiagnostic(d, 9, 18, "'queue_drained' must be a command as a list of arguments")
        assertDiagnostic(d, 10, 14, "'on' must be 'done', 'failed' or 'cancelled', not 'finished'")
        assertDiagnostic(d, 11, 20, "'timeout_seconds' is 0")
        assertDiagnostic(d, 12, 3, "unknown key 'when' in 'notify'")
        XCTAssertEqual(d.count, 5, d.map(\.description).joined(separator: "\n"))
    }

    func testClassListFromFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "# my classes\ncat\n\ndog\n".write(
            to: dir.appendingPathComponent("names.txt"), atomically: true, encoding: .utf8)
        try "cat\ndog\ncat\n".write(to: dir.appendingPathComponent("dups.txt"), atomically: true, encoding: .utf8)
        let config = """
            spool: s
            output: out
            models:
              pets:
                preset: demo
                checkpoint: p.pt
                vae: v
                classes: names.txt
            """
        let url = dir.appendingPathComponent("skipdit.yaml")
        try config.write(to: url, atomically: true, encoding: .utf8)
        let loaded = try DaemonConfig.load(contentsOf: url)
        XCTAssertEqual(loaded.model(named: "pets")?.classes, ["cat", "dog"])
        XCTAssertEqual(loaded.output.path, dir.standardizedFileURL.appendingPathComponent("out").path)
        let plan = try JobFile.validate(
            "version: 1\nmodel: pets\nclass: dog\noutput: \"{class}/{seed}.mp4\"\n", file: "j.yaml", config: loaded)
        XCTAssertEqual(plan.classIndex, 1)
        XCTAssertEqual(plan.videos.first?.relativePath, "dog/0.mp4")

        try config.replacingOccurrences(of: "names.txt", with: "dups.txt").write(
            to: url, atomically: true, encoding: .utf8)
        let d = diagnostics { try DaemonConfig.load(contentsOf: url, file: "skipdit.yaml") }
        XCTAssertEqual(d.count, 1)
        XCTAssertEqual(d.first?.file, dir.appendingPathComponent("dups.txt").standardizedFileURL.path)
        XCTAssertEqual(d.first?.line, 3)
        try config.replacingOccurrences(of: "names.txt", with: "missing.txt").write(
            to: url, atomically: true, encoding: .utf8)
        assertDiagnostic(diagnostics { try DaemonConfig.load(contentsOf: url) }, 8, 14, "cannot read the class list")
    }

    func testUCF101ClassList() {
        let classes = UCF101.classes
        XCTAssertEqual(classes.count, 101)
        XCTAssertEqual(Set(classes).count, 101)
        // Python's sorted(): code-point order, which Swift's < on unicode scalars reproduces.
        let codePointSorted = classes.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
        XCTAssertEqual(classes, codePointSorted)
        let index = { (name: String) in classes.firstIndex(of: name) ?? -1 }
        XCTAssertLessThan(index("HammerThrow"), index("Hammering"))
        XCTAssertLessThan(index("JumpRope"), index("JumpingJack"))
        XCTAssertEqual(classes.first, "ApplyEyeMakeup")
        XCTAssertEqual(classes.last, "YoYo")
        XCTAssertEqual(index("Biking"), 10)
    }

    /// The built-in list equals the spec's list (copied from shared/spec into Tests/Fixtures).
    func testUCF101ListMatchesSpecFile() throws {
        let text = try String(contentsOf: Fixtures.root.appendingPathComponent("ucf101-classes.txt"), encoding: .utf8)
        XCTAssertEqual(text.split(whereSeparator: \.isNewline).map(String.init), UCF101.classes)
    }
}
