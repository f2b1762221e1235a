// skipdit bench cache — Skip-Cache speed-up and quality (PSNR/SSIM against the uncached video of the
// same class and seed) on a class-to-video model of a daemon config; by default the shipped demo
// model (etc/skipdit/demo.yaml), every class, seeds 1-3, N = 2, 3, 4.

import ArgumentParser
import Benchmarks
import Diffusion
import Foundation
import Jobs
import Render

struct BenchCacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Skip-Cache speed-up and PSNR/SSIM of cached against uncached videos (same class and seed).",
        discussion: """
            Sampler, steps and guidance default to the model entry's defaults. Times are the denoise loop \
            only (decode and encode do not depend on N); speed-ups are against N = 1 (no cache).
            """)

    @Option(help: "The daemon configuration holding the model.")
    var config = "etc/skipdit/demo.yaml"

    @Option(help: "Model name in the configuration (default: its first class-to-video model).")
    var model: String?

    @Option(help: "Classes (names or ids), comma-separated (default: every class).")
    var classes: String?

    @Option(help: "Seeds, comma-separated.")
    var seeds = "1,2,3"

    @Option(help: "Cache intervals N to compare with no cache, comma-separated.")
    var intervals = "2,3,4"

    @Option(help: "Sampler steps (default: the model's).")
    var steps: Int?

    @Option(help: "Guidance scale (default: the model's).")
    var guidance: Double?

    @Option(help: "Timed runs of every N (best and median are reported).")
    var runs = 1

    @Option(help: "Worker threads (default: the config's compute.threads, 0 = all cores).")
    var threads: Int?

    @Option(help: "Write every compared video's frames to this folder as .npy (F, H, W, 3) uint8.")
    var frames: String?

    @Flag(help: "Print one JSON object per N and line instead of a table.")
    var json = false

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
        guard (try? list(intervals))?.allSatisfy({ $0 >= 1 }) == true else {
            throw ValidationError("--intervals must be positive integers, e.g. 2,3,4")
        }
        guard (try? list(seeds))?.isEmpty == false else {
            throw ValidationError("--seeds must be integers, e.g. 1,2,3")
        }
    }

    private func list(_ text: String) throws -> [Int] {
        try text.split(separator: ",").map {
            guard let v = Int($0.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("'\($0)' is not an integer")
            }
            return v
        }
    }

    func run() throws {
        var daemonConfig = try DaemonConfig.load(contentsOf: URL(fileURLWithPath: config))
        if let threads { daemonConfig.compute.threads = threads }
        let entry: ModelEntry
        if let model {
            guard let e = daemonConfig.model(named: model) else {
                throw ValidationError(
                    "no model '\(model)' in \(config); it has: \(daemonConfig.models.map(\.name).joined(separator: ", "))"
                )
            }
            entry = e
        } else {
            guard let e = daemonConfig.models.first(where: { $0.task == .classToVideo }) else {
                throw ValidationError("\(config) has no class-to-video model")
            }
            entry = e
        }
        guard entry.task == .classToVideo else {
            throw ValidationError("'\(entry.name)' is not a class-to-video model")
        }
        let classIds: [Int?]
        if !entry.isConditional {
            classIds = [nil]
        } else if let classes {
            classIds = try classes.split(separator: ",").map { raw -> Int? in
                let s = raw.trimmingCharacters(in: .whitespaces)
                if let i = entry.classes?.firstIndex(of: s) { return i }
                guard let i = Int(s), (0..<entry.numClasses).contains(i) else {
                    throw ValidationError("unknown class '\(s)' of '\(entry.name)'")
                }
                return i
            }
        } else {
            classIds = Array(0..<entry.numClasses)
        }
        var bench = CacheQualityBenchmark(
            checkpoint: entry.checkpoint, vae: entry.vae, heads: entry.heads, classes: classIds, seeds: try list(seeds),
            method: entry.defaults.sampler == .ddpm ? .ddpm : .ddim, steps: steps ?? entry.defaults.steps,
            guidance: Float(guidance ?? (entry.isConditional ? entry.defaults.guidance : 1.0)),
            intervals: try list(intervals))
        if let c = entry.defaults.cache {
            bench.start = c.start
            bench.stop = c.stop
        }
        bench.runs = runs
        bench.framesDirectory = frames.map { URL(fileURLWithPath: $0) }
        let engine = try ModelCache().engine(for: daemonConfig.compute)
        let rows = try bench.run(engine: engine) { row in
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                if let data = try? encoder.encode(row) { print(String(decoding: data, as: UTF8.self)) }
            } else {
                FileHandle.standardError.write(
                    Data("  N=\(row.interval): \(String(format: "%.3f", row.seconds)) s\n".utf8))
            }
        }
        if !json { print(CacheQualityBenchmark.table(rows)) }
    }
}
