// The determinism contract (README, "Reproducibility"), tested on the shipped demo model through the
// real binary: for one binary, model, machine, backend, precision and thread count, a job's videos
// are bit-identical MP4s (so their decoded frames are identical too) whether rendered
//   - by fresh `skipdit render` processes whose heaps are laid out differently and whose scratch
//     memory is poisoned (MALLOC_PERTURB_, glibc's mmap threshold, SKIPDIT_SCRATCH_FILL=nan: a kernel
//     reading memory it never wrote, or choosing a path by an address, changes the video),
//   - by a warm daemon after other jobs,
//   - resumed after a stop at every step boundary of a short job, or
//   - one video alone (`--video N`, what a cluster task runs).
// Every backend and precision this machine has is covered, single- and multi-threaded; text-to-video
// (the tiny fixture models) across processes and in a warm daemon.

import Foundation
import XCTest

final class DeterminismTests: DaemonTestCase {
    /// One compute setting of the contract.
    struct Compute: CustomStringConvertible {
        var backend: String
        var precision: String
        var threads: Int
        var description: String { "\(backend) \(precision) \(threads) thread(s)" }
        var yaml: String { "compute: { backend: \(backend), precision: \(precision), threads: \(threads) }" }
    }

    /// The jobs: several classes and seeds, DDIM and DDPM, Skip-Cache off, N = 2 and N = 3.
    static let jobs: [(name: String, text: String)] = [
        ("left", "class: left\nseeds: [1, 7]\nsteps: 20\ncache: { interval: 2 }\n"),
        ("bounce", "class: bounce\nseeds: [3]\nsteps: 12\ncache: off\n"),
        ("grow", "class: grow\nseeds: [5]\nsampler: ddpm\nsteps: 16\ncache: { interval: 3 }\n"),
    ]

    /// Process environments that lay the heap out differently or poison scratch memory.
    static let environments: [[String: String]] = [
        [:],
        ["MALLOC_PERTURB_": "165", "GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=4096"],
        ["SKIPDIT_SCRATCH_FILL": "nan", "MALLOC_PERTURB_": "90"],
    ]

    /// A config for the demo model with `compute`, output in `output`, spool in `spool`.
    private func writeConfig(_ url: URL, compute: Compute, output: URL, spool: URL) throws {
        let text = """
            spool: \(spool.path)
            output: \(output.path)
            models:
            \(TestSpool.demoModel("demo"))
            \(compute.yaml)
            \(TestSpool.fastDaemon)

            """
        try Data(text.utf8).write(to: url)
    }

    private func writeJob(_ directory: URL, _ name: String, _ body: String) throws -> URL {
        let url = directory.appendingPathComponent("\(name).yaml")
        try Data("version: 1\nmodel: demo\n\(body)output: \"\(name)-{seed}.mp4\"\n".utf8).write(to: url)
        return url
    }

    /// The computes this machine has: OpenBLAS and oneDNN fp32 on one thread and on two, and oneDNN bf16
    /// where the CPU has it (asked of the binary, which reports the bf16 error otherwise).
    private func availableComputes(_ scratch: URL) throws -> [Compute] {
        var list: [Compute] = []
        for backend in ["openblas", "onednn"] {
            for threads in [1, 2] { list.append(Compute(backend: backend, precision: "fp32", threads: threads)) }
        }
        let bf16 = Compute(backend: "onednn", precision: "bf16", threads: 2)
        let config = scratch.appendingPathComponent("probe-config.yaml")
        try writeConfig(config, compute: bf16, output: scratch, spool: scratch.appendingPathComponent("spool"))
        let job = try writeJob(scratch, "probe", "class: left\nseed: 1\nsteps: 2\n")
        let (status, text) = try SkipditBinary.run(["render", job.path, "--config", config.path])
        if status == 0 {
            list.append(bf16)
        } else {
            XCTAssertTrue(text.contains("bf16"), "a bf16 render failed for another reason than the CPU: \(text)")
        }
        return list
    }

    /// Renders `job` with `config` into `output` and returns the sha256 of each video and poster.
    private func render(
        _ job: URL, config: URL, output: URL, environment: [String: String] = [:], extra: [String] = []
    ) throws -> [String: String] {
        let (status, text) = try SkipditBinary.run(
            ["render", job.path, "--config", config.path, "--output", output.path] + extra, environment: environment)
        XCTAssertEqual(status, 0, "\(job.lastPathComponent): \(text)")
        return try hashes(output)
    }

    /// sha256 of every file in `folder`.
    private func hashes(_ folder: URL) throws -> [String: String] {
        var result: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        where name.hasSuffix(".mp4") || name.hasSuffix(".png") {
            result[name] = try sha256(folder.appendingPathComponent(name))
        }
        return result
    }

    func testFreshProcessesWithOtherHeapsAndPoisonedScratchRenderOneVideoPerSeed() throws {
        let scratch = try makeSpool("determinism-processes").root
        for compute in try availableComputes(scratch) {
            let config = scratch.appendingPathComponent(
                "config-\(compute.backend)-\(compute.precision)-\(compute.threads).yaml")
            try writeConfig(config, compute: compute, output: scratch, spool: scratch.appendingPathComponent("spool"))
            for (name, body) in Self.jobs {
                let job = try writeJob(scratch, name, body)
                var first: [String: String]?
                for (i, environment) in Self.environments.enumerated() {
                    let output = scratch.appendingPathComponent(
                        "out-\(compute.backend)-\(compute.precision)-\(compute.threads)-\(name)-\(i)")
                    let got = try render(job, config: config, output: output, environment: environment)
                    XCTAssertFalse(got.isEmpty, "\(name): no video")
                    if let first {
                        XCTAssertEqual(
                            got, first, "\(compute), job \(name): run \(i) (\(environment)) differs from run 0")
                    } else {
                        first = got
                    }
                }
            }
        }
    }

    func testAWarmDaemonAfterOtherJobsRendersWhatAFreshProcessRenders() throws {
        let spool = try makeSpool("determinism-warm")
        let compute = Compute(backend: "auto", precision: "fp32", threads: 2)
        let fresh = spool.root.appendingPathComponent("fresh")
        let freshConfig = spool.root.appendingPathComponent("fresh.yaml")
        try writeConfig(
            freshConfig, compute: compute, output: fresh, spool: spool.root.appendingPathComponent("unused"))
        var expected: [String: String] = [:]
        for (name, body) in Self.jobs {
            let job = try writeJob(spool.root, name, body)
            expected.merge(try render(job, config: freshConfig, output: fresh)) { $1 }
        }
        try writeConfig(spool.config, compute: compute, output: spool.output, spool: spool.spool)
        let daemon = try DaemonProcess(spool)
        // Other jobs first (other classes, seeds, step counts and schedules), then the ones compared.
        let warmUps = [
            ("warm-a", "class: shrink\nseeds: [9, 10]\nsteps: 14\ncache: { interval: 4 }\n"),
            ("warm-b", "class: right\nseeds: [2]\nsampler: ddpm\nsteps: 10\ncache: off\n"),
        ]
        for (name, body) in warmUps {
            try spool.submit("\(name).yaml", "version: 1\nmodel: demo\n\(body)output: \"\(name)-{seed}.mp4\"\n")
        }
        try waitUntil("the warm-up jobs in done/", timeout: 120) { spool.list("done").count == warmUps.count }
        for (name, body) in Self.jobs {
            try spool.submit("\(name).yaml", "version: 1\nmodel: demo\n\(body)output: \"\(name)-{seed}.mp4\"\n")
        }
        try waitUntil("every job in done/", timeout: 180) {
            spool.list("done").count == warmUps.count + Self.jobs.count
        }
        XCTAssertEqual(spool.list("failed"), [], daemon.logText)
        XCTAssertEqual(daemon.stop(), 0)
        let warm = try hashes(spool.output).filter { !$0.key.hasPrefix("warm-") }
        XCTAssertEqual(warm, expected, daemon.logText)
    }

    func testTextToVideoIsReproducibleAcrossProcessesAndInAWarmDaemon() throws {
        // The tiny text-to-video fixtures (T5, tokenizer, Latte T2V with Skip-Cache, temporal VAE).
        let spool = try makeSpool("determinism-t2v")
        try spool.writeConfig(models: [TestSpool.tinyTextToVideoModel("words")], threads: 2)
        let job = """
            version: 1
            task: text-to-video
            model: words
            prompt: "A red kite over a windy beach at dusk."
            seeds: [5, 6]
            cache: N2-700-50
            output: "kite-{seed}.mp4"

            """
        let file = spool.root.appendingPathComponent("kite.yaml")
        try Data(job.utf8).write(to: file)
        var first: [String: String]?
        for (i, environment) in Self.environments.enumerated() {
            let got = try render(
                file, config: spool.config, output: spool.root.appendingPathComponent("fresh-\(i)"),
                environment: environment)
            XCTAssertEqual(got.count, 4)
            if let first {
                XCTAssertEqual(got, first, "run \(i) (\(environment)) differs from run 0")
            } else {
                first = got
            }
        }
        let daemon = try DaemonProcess(spool)
        try spool.submit(
            "other.yaml",
            job.replacingOccurrences(of: "A red kite", with: "A green boat").replacingOccurrences(
                of: "kite-", with: "boat-"))
        try spool.submit("kite.yaml", job)
        try waitUntil("both jobs in done/", timeout: 120) { spool.list("done").count == 2 }
        XCTAssertEqual(daemon.stop(), 0, daemon.logText)
        XCTAssertEqual(try hashes(spool.output).filter { $0.key.hasPrefix("kite-") }, first)
    }

    func testAStopAtEveryStepBoundaryResumesToTheUninterruptedVideos() throws {
        let scratch = try makeSpool("determinism-resume").root
        let compute = Compute(backend: "auto", precision: "fp32", threads: 2)
        let config = scratch.appendingPathComponent("config.yaml")
        try writeConfig(config, compute: compute, output: scratch, spool: scratch.appendingPathComponent("spool"))
        // Two videos of five steps with Skip-Cache N = 2: stops inside a video, on its last step and
        // on the boundary between the videos.
        let steps = 5, videos = 2
        let job = try writeJob(scratch, "resume", "class: up\nseeds: [3, 4]\nsteps: \(steps)\ncache: { interval: 2 }\n")
        let expected = try render(job, config: config, output: scratch.appendingPathComponent("whole"))
        XCTAssertEqual(expected.count, 2 * videos)
        let state = scratch.appendingPathComponent("resume.state")
        for k in 1..<(steps * videos) {
            let output = scratch.appendingPathComponent("stop-\(k)")
            let arguments = [
                "render", job.path, "--config", config.path, "--output", output.path, "--state", state.path,
            ]
            let (status, text) = try SkipditBinary.run(arguments + ["--stop-after-steps", String(k)])
            XCTAssertEqual(status, 75, "a stop after step \(k) exits with EX_TEMPFAIL: \(text)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: state.path), "stop after \(k): no state saved")
            let (again, log) = try SkipditBinary.run(arguments)
            XCTAssertEqual(again, 0, log)
            XCTAssertFalse(FileManager.default.fileExists(atPath: state.path), "the state outlived the render")
            XCTAssertEqual(try hashes(output), expected, "stopped after step \(k), then resumed")
        }
        // One video alone is the same file as in the whole job.
        let alone = scratch.appendingPathComponent("alone")
        let second = try render(job, config: config, output: alone, extra: ["--video", "2"])
        XCTAssertEqual(second, expected.filter { $0.key.hasPrefix("resume-4.") })
    }

    func testASignalStopsTheRenderAtAStepBoundaryAndItResumes() throws {
        let scratch = try makeSpool("determinism-signal").root
        let config = scratch.appendingPathComponent("config.yaml")
        try writeConfig(
            config, compute: Compute(backend: "auto", precision: "fp32", threads: 1), output: scratch,
            spool: scratch.appendingPathComponent("spool"))
        let job = try writeJob(scratch, "long", "class: down\nseed: 8\nsteps: 250\ncache: { interval: 2 }\n")
        let expected = try render(job, config: config, output: scratch.appendingPathComponent("whole"))
        let output = scratch.appendingPathComponent("signalled")
        for signal in [SIGUSR1, SIGTERM] {
            let process = Process()
            process.executableURL = try SkipditBinary.require()
            process.arguments = ["render", job.path, "--config", config.path, "--output", output.path]
            let pipe = Pipe()
            process.standardError = pipe
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            // Signal once denoising has begun (the first progress line says so).
            var seen = Data()
            while !String(decoding: seen, as: UTF8.self).contains("denoising") {
                let chunk = pipe.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                seen.append(chunk)
            }
            kill(process.processIdentifier, signal)
            let rest = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let text = String(decoding: seen + rest, as: UTF8.self)
            XCTAssertEqual(process.terminationStatus, 75, "signal \(signal): \(text)")
            XCTAssertTrue(text.contains("state saved"), text)
        }
        XCTAssertEqual(try render(job, config: config, output: output), expected)
    }
}
