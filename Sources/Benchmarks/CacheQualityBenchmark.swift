// `bench cache`: what Skip-Cache buys and costs on a class-to-video model (meant for the shipped demo
// model). For every class and seed, the same video is rendered without the cache (N = 1) and with
// Skip-Cache every N-th step (N = 2, 3, 4, thresholds 900/50), exactly as the render pipeline samples
// (seeded counter-based noise, DDIM/DDPM over the respaced schedule, CFG as one batch of 2, the
// render's own cache state); then each cached video is decoded and compared with the uncached one
// of the same class and seed: PSNR and SSIM on the uint8 RGB frames. The denoise time (sampler
// loop only; decode and encode do not depend on N) gives the speed-up against N = 1.
//
// Shapes: latents (1, F, C, h, w); decoded video (F, H, W, 3) uint8.

import Checkpoints
import Diffusion
import Foundation
import Latte
import Sampling
import TensorCore
import VAE

/// One row of the cache benchmark: a cache interval, its speed and its quality against no cache.
public struct CacheQualityResult: Codable, Sendable, Equatable {
    /// Skip-Cache interval N (1: no cache).
    public var interval: Int
    /// Full and cached transformer calls per video.
    public var fullSteps: Int
    public var cachedSteps: Int
    /// Denoise seconds for all videos of one run: best and median over the runs.
    public var seconds: Double
    public var medianSeconds: Double
    /// Speed-up of the best (and median) time against N = 1.
    public var speedup: Double
    public var medianSpeedup: Double
    /// Speed-up the FLOP count predicts (LatteConfig.forwardFLOPs) against N = 1.
    public var flopSpeedup: Double
    /// PSNR (dB) against the uncached video, mean and minimum over the videos; nil for N = 1
    /// (identical videos; infinite PSNR).
    public var psnr: Double?
    public var minPSNR: Double?
    /// SSIM against the uncached video (mean over frames, then over videos) and its minimum.
    public var ssim: Double?
    public var minSSIM: Double?
    /// Videos per run, timed runs.
    public var videos: Int
    public var runs: Int
    public var threads: Int
    public var cpu: String
    /// The setting: model, sampler, steps, guidance.
    public var setting: String

    enum CodingKeys: String, CodingKey {
        case interval
        case fullSteps = "full_steps"
        case cachedSteps = "cached_steps"
        case seconds
        case medianSeconds = "median_seconds"
        case speedup
        case medianSpeedup = "median_speedup"
        case flopSpeedup = "flop_speedup"
        case psnr
        case minPSNR = "min_psnr"
        case ssim
        case minSSIM = "min_ssim"
        case videos, runs, threads, cpu, setting
    }
}

public struct CacheQualityBenchmark {
    /// The model: a Latte-skip checkpoint, its 2-D VAE (folder or single file), the head count (nil: official).
    public var checkpoint: URL
    public var vae: URL
    public var heads: Int?
    /// Class ids to render (nil entries: unconditional model) and the seeds of each.
    public var classes: [Int?]
    public var seeds: [Int]
    public var method: SamplerMethod
    public var steps: Int
    public var guidance: Float
    /// Cache intervals; 1 (no cache) is always measured first, as the reference.
    public var intervals: [Int]
    /// Skip-Cache thresholds in original timesteps (full steps while t ≥ start; off once t < stop).
    public var start = 900
    public var stop = 50
    /// Timed runs of every interval (best and median reported), interleaved.
    public var runs = 1
    /// If set, each video's frames are written there as `<class>-<seed>-N<n>.npy` (F, H, W, 3) uint8.
    public var framesDirectory: URL?

    public init(
        checkpoint: URL, vae: URL, heads: Int?, classes: [Int?], seeds: [Int], method: SamplerMethod, steps: Int,
        guidance: Float, intervals: [Int]
    ) {
        self.checkpoint = checkpoint
        self.vae = vae
        self.heads = heads
        self.classes = classes
        self.seeds = seeds
        self.method = method
        self.steps = steps
        self.guidance = guidance
        self.intervals = intervals
    }

    /// Renders, times and compares; `report` sees each row as it is complete.
    public func run(engine: GEMMEngine, report: (CacheQualityResult) -> Void) throws -> [CacheQualityResult] {
        precondition(!seeds.isEmpty && !classes.isEmpty && runs >= 1, "need seeds, classes and runs")
        let model = try LatteTransformer.load(checkpoint: checkpoint, numHeads: heads, engine: engine)
        let decoder = try VAEDecoder(contentsOf: vae, engine: engine)
        let ns = [1] + intervals.filter { $0 > 1 }
        let videos = classes.flatMap { c in seeds.map { (classIndex: c, seed: $0) } }

        // One untimed render per N first: weight preparation and first-call costs are not the cache's.
        for n in ns {
            _ = try denoise(model: model, classIndex: videos[0].classIndex, seed: videos[0].seed, interval: n)
        }
        // Timed renders, interleaved over N so that a noisy spell on a shared machine hits all alike.
        var seconds = [[Double]](repeating: [], count: ns.count)
        var latents = [[Tensor]](repeating: [], count: ns.count)
        var counts = [(full: Int, cached: Int)](repeating: (0, 0), count: ns.count)
        for run in 0..<runs {
            for (i, n) in ns.enumerated() {
                var total = 0.0
                for v in videos {
                    let started = DispatchTime.now().uptimeNanoseconds
                    let (x, full, cached) = try denoise(
                        model: model, classIndex: v.classIndex, seed: v.seed, interval: n)
                    total += Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
                    if run == 0 {
                        latents[i].append(x)
                        counts[i] = (full, cached)
                    }
                }
                seconds[i].append(total)
            }
        }

        // Decode once and compare with N = 1.
        let reference = try latents[0].enumerated().map { j, x in
            try decode(x, decoder: decoder, name: name(videos[j], 1))
        }
        let c = model.config
        let fullFLOPs = c.forwardFLOPs(batch: guidance != 1 ? 2 : 1, mode: .full)
        let cachedFLOPs = c.forwardFLOPs(batch: guidance != 1 ? 2 : 1, mode: .cached)
        let baseFLOPs = Double(steps) * fullFLOPs
        let setting =
            "\(checkpoint.deletingPathExtension().lastPathComponent) \(method.rawValue) \(steps) steps, guidance \(guidance)"
        let base = Timing(samples: seconds[0])
        var results: [CacheQualityResult] = []
        for (i, n) in ns.enumerated() {
            var psnrs: [Double] = [], ssims: [Double] = []
            if n > 1 {
                for (j, x) in latents[i].enumerated() {
                    let video = try decode(x, decoder: decoder, name: name(videos[j], n))
                    psnrs.append(VideoQuality.psnr(video.frames, reference[j].frames))
                    ssims.append(
                        VideoQuality.ssim(
                            video.frames, reference[j].frames, frames: video.count, height: video.height,
                            width: video.width))
                }
            }
            let timing = Timing(samples: seconds[i])
            let flops = Double(counts[i].full) * fullFLOPs + Double(counts[i].cached) * cachedFLOPs
            let mean = { (xs: [Double]) in xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
            let row = CacheQualityResult(
                interval: n, fullSteps: counts[i].full, cachedSteps: counts[i].cached, seconds: timing.best,
                medianSeconds: timing.median, speedup: base.best / timing.best,
                medianSpeedup: base.median / timing.median,
                flopSpeedup: baseFLOPs / flops, psnr: mean(psnrs), minPSNR: psnrs.min(), ssim: mean(ssims),
                minSSIM: ssims.min(),
                videos: videos.count, runs: runs, threads: Parallel.threadCount, cpu: MachineInfo.cpu, setting: setting)
            results.append(row)
            report(row)
        }
        return results
    }

    private func name(_ v: (classIndex: Int?, seed: Int), _ n: Int) -> String {
        "\(v.classIndex.map(String.init) ?? "u")-\(v.seed)-N\(n)"
    }

    /// One video's denoise loop through the sampler the renderer uses; returns the final latents
    /// (1, F, C, h, w) and the full/cached call counts.
    func denoise(model: LatteTransformer, classIndex: Int?, seed: Int, interval: Int) throws -> (Tensor, Int, Int) {
        let c = model.config
        let shape = [1, c.numFrames, c.inChannels, c.latentSize, c.latentSize]
        let sampler = try ClassToVideoSampler(
            model: model, method: method, steps: steps, guidance: guidance, labels: classIndex.map { [$0] })
        let noise = GaussianNoise(seed: UInt64(bitPattern: Int64(seed)))
        let cache =
            interval > 1
            ? SkipCacheState(
                schedule: SkipCacheSchedule(interval: interval, start: start, stop: stop, stopRule: .below)) : nil
        var full = 0, cached = 0
        let x = try sampler.run(
            from: noise.tensor(shape: shape, stream: GaussianNoise.Stream.initialLatents), cache: cache,
            noise: { step in noise.tensor(shape: shape, stream: GaussianNoise.Stream.step(step.iteration)) },
            observe: { if $0.mode == .full { full += 1 } else { cached += 1 } })
        return (x, full, cached)
    }

    /// Decodes (1, F, C, h, w) latents to uint8 frames (F, H, W, 3), rounding as the pipeline does.
    func decode(_ latents: Tensor, decoder: VAEDecoder, name: String) throws -> (
        frames: [UInt8], count: Int, height: Int, width: Int
    ) {
        let z = decoder.latentsToZ(latents.reshaped(Array(latents.shape.dropFirst())))
        var frames: [UInt8] = []
        var (height, width) = (0, 0)
        decoder.decode(z: z) { _, frame in
            (height, width) = (frame.shape[1], frame.shape[2])
            frames += FrameConversion.uint8(frame, rounding: .roundHalfUp)
        }
        let count = z.shape[0]
        if let dir = framesDirectory {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try NumPy.write(
                uint8: frames, shape: [count, height, width, 3], to: dir.appendingPathComponent("\(name).npy"))
        }
        return (frames, count, height, width)
    }

    /// An aligned table of the rows.
    public static func table(_ rows: [CacheQualityResult]) -> String {
        let header = [
            "N", "full/cached", "denoise s (best)", "median s", "speed-up", "median", "FLOP speed-up", "PSNR dB", "min",
            "SSIM", "min",
        ]
        func f(_ x: Double?, _ d: Int) -> String { x.map { String(format: "%.\(d)f", $0) } ?? "-" }
        let cells = rows.map { r in
            [
                r.interval == 1 ? "1 (off)" : "\(r.interval)", "\(r.fullSteps)/\(r.cachedSteps)", f(r.seconds, 3),
                f(r.medianSeconds, 3),
                f(r.speedup, 2) + "x", f(r.medianSpeedup, 2) + "x", f(r.flopSpeedup, 2) + "x", f(r.psnr, 2),
                f(r.minPSNR, 2),
                f(r.ssim, 4), f(r.minSSIM, 4),
            ]
        }
        let all = [header] + cells
        let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
        func line(_ row: [String]) -> String {
            row.enumerated().map { c, s in String(repeating: " ", count: widths[c] - s.count) + s }.joined(
                separator: "  ")
        }
        var out =
            [line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + cells.map(line)
        if let r = rows.first {
            out.append(
                "\(r.setting); \(r.videos) videos per N, \(r.runs) timed run(s); cpu: \(r.cpu), threads: \(r.threads)")
            out.append("PSNR/SSIM: each cached video against the uncached one of the same class and seed (uint8 RGB)")
        }
        return out.joined(separator: "\n")
    }
}
