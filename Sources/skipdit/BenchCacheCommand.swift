// skipdit bench cache — Skip-Cache speed-up and quality (PSNR/SSIM against the uncached video of the
// same class and seed) on a class-to-video model of a daemon config; by default the shipped demo
// model (etc/skipdit/demo.yaml), every class, seeds 1-3, fixed N = 2, 3, 4 and an adaptive threshold
// sweep. `--json` rows are a calibration a model entry can name; `--plot` draws the frontier.

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
            Compares no cache, the fixed interval N (the reference) and the adaptive policy at each \
            threshold. Sampler, steps, guidance and the timestep window default to the model entry's \
            defaults. Times are the denoise loop only (decode and encode do not depend on the cache); \
            speed-ups are against no cache. The --json lines, saved to a file and named in a model \
            entry's `cache_calibration:`, let jobs ask for `cache: { policy: adaptive, target_psnr: P }`.
            """)

    @Option(help: "The daemon configuration holding the model.")
    var config = "etc/skipdit/demo.yaml"

    @Option(help: "Model name in the configuration (default: its first class-to-video model).")
    var model: String?

    @Option(help: "Classes (names or ids), comma-separated (default: every class).")
    var classes: String?

    @Option(help: "Seeds, comma-separated.")
    var seeds = "1,2,3"

    @Option(help: "Fixed cache intervals N to compare with no cache, comma-separated (\"\": none).")
    var intervals = "2,3,4"

    @Option(help: "Adaptive thresholds to sweep, comma-separated (\"\": none).")
    var thresholds = "0.5,1,2,4,8,16,32"

    @Option(help: "Adaptive: at most this many cached steps in a row.")
    var maxCached = AdaptiveCacheSettings.defaultMaxCached

    @Option(help: "Window starts (timesteps at or above which every step is full) to sweep the adaptive policy at, comma-separated (default: the model's).")
    var adaptiveStarts: String?

    @Option(help: "Sampler, ddim or ddpm (default: the model's).")
    var sampler: String?

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

    @Option(help: "Write the speed/quality frontier to this SVG file.")
    var plot: String?

    @Option(help: "Measure nothing: read the rows of an earlier --json run from this file, print them and (with --plot) draw them.")
    var rows: String?

    @Flag(help: "Print one JSON object per setting and line instead of a table.")
    var json = false

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
        guard (try? numbers(intervals, as: Int.self))?.allSatisfy({ $0 >= 2 }) == true else {
            throw ValidationError("--intervals must be integers of at least 2, e.g. 2,3,4")
        }
        guard let ts = try? numbers(thresholds, as: Double.self),
            ts.allSatisfy({ AdaptiveCacheSettings.thresholdRange.contains($0) })
        else {
            throw ValidationError("--thresholds must be numbers in \(AdaptiveCacheSettings.thresholdRange), e.g. 2,4,8")
        }
        guard AdaptiveCacheSettings.maxCachedRange.contains(maxCached) else {
            throw ValidationError("--max-cached must be at least 1")
        }
        if let a = adaptiveStarts {
            guard (try? numbers(a, as: Int.self))?.allSatisfy({ (1...1000).contains($0) }) == true else {
                throw ValidationError("--adaptive-starts must be timesteps 1...1000, e.g. 900,1000")
            }
        }
        if let sampler, Sampler(rawValue: sampler) == nil {
            throw ValidationError("--sampler must be ddim or ddpm")
        }
        guard (try? numbers(seeds, as: Int.self))?.isEmpty == false else {
            throw ValidationError("--seeds must be integers, e.g. 1,2,3")
        }
    }

    /// A comma-separated list of numbers ("": none).
    private func numbers<T: LosslessStringConvertible>(_ text: String, as: T.Type) throws -> [T] {
        try text.split(separator: ",").map {
            guard let v = T($0.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("'\($0)' is not \(T.self == Int.self ? "an integer" : "a number")")
            }
            return v
        }
    }

    func run() throws {
        if let rows {
            var saved = try Self.readRows(rows)
            CacheQualityBenchmark.markCliffs(&saved)
            if json { saved.forEach(Self.printJSON) } else { print(CacheQualityBenchmark.table(saved)) }
            try plot.map { try Self.writePlot(saved, to: $0, title: "Skip-Cache speed/quality frontier: \(saved.first?.setting ?? rows)") }
            return
        }
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
        let window = entry.defaults.cache ?? SkipCacheSettings(interval: 2, start: 900, stop: 50)
        let starts = try adaptiveStarts.map { try numbers($0, as: Int.self) } ?? [window.start]
        let settings =
            try numbers(intervals, as: Int.self).map { CacheSetting.fixed($0, start: window.start, stop: window.stop) }
            + starts.flatMap { start in
                try numbers(thresholds, as: Double.self).map {
                    CacheSetting.adaptive(threshold: $0, maxCached: maxCached, start: start, stop: window.stop)
                }
            }
        let method = (sampler.flatMap(Sampler.init) ?? entry.defaults.sampler) == .ddpm ? SamplerMethod.ddpm : .ddim
        var bench = CacheQualityBenchmark(
            checkpoint: entry.checkpoint, vae: entry.vae, heads: entry.heads, classes: classIds, seeds: try numbers(seeds, as: Int.self),
            method: method, steps: steps ?? entry.defaults.steps,
            guidance: Float(guidance ?? (entry.isConditional ? entry.defaults.guidance : 1.0)), settings: settings)
        bench.runs = runs
        bench.framesDirectory = frames.map { URL(fileURLWithPath: $0) }
        let engine = try ModelCache().engine(for: daemonConfig.compute)
        let rows = try bench.run(engine: engine) { row in
            if json {
                Self.printJSON(row)
            } else {
                FileHandle.standardError.write(
                    Data("  \(row.label(defaultStart: window.start)): \(String(format: "%.3f", row.seconds)) s\n".utf8))
            }
        }
        if !json { print(CacheQualityBenchmark.table(rows)) }
        if let plot {
            let title = "Skip-Cache speed/quality frontier: \(entry.name), \(method.rawValue) \(bench.steps) steps"
            try Self.writePlot(rows, to: plot, title: title)
        }
    }

    /// One row as a JSON line (sorted keys), the calibration format.
    private static func printJSON(_ row: CacheQualityResult) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if let data = try? encoder.encode(row) { print(String(decoding: data, as: UTF8.self)) }
    }

    private static func writePlot(_ rows: [CacheQualityResult], to path: String, title: String) throws {
        do {
            try Data(FrontierPlot.svg(rows, title: title).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ValidationError("cannot write the plot \(path): \(error.localizedDescription)")
        }
    }

    /// The rows of a `--json` run (one JSON object per line).
    private static func readRows(_ path: String) throws -> [CacheQualityResult] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ValidationError("cannot read \(path): \(error.localizedDescription)")
        }
        return try text.split(separator: "\n").enumerated().map { n, line in
            do { return try JSONDecoder().decode(CacheQualityResult.self, from: Data(line.utf8)) } catch {
                throw ValidationError("\(path):\(n + 1): not a bench cache row (\(error))")
            }
        }
    }
}
