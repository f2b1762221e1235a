// `bench cache`: what Skip-Cache buys and costs on a class-to-video model (meant for the shipped demo
// model). For every class and seed, the same video is rendered without the cache and with each
// cache setting — the reference's fixed interval N, and skipdit's adaptive policy at a sweep of
// thresholds — exactly as the render pipeline samples (seeded counter-based noise, DDIM/DDPM over the
// respaced schedule, CFG as one batch of 2, the render's own cache state); then each cached video is
// decoded and compared with the uncached one of the same class and seed: PSNR and SSIM on the uint8
// RGB frames. The denoise time (sampler loop only; decode and encode do not depend on the cache) gives
// the speed-up against no cache, the FLOP count the speed-up it predicts. The rows (JSON lines) are
// also an adaptive calibration a model entry can name (`cache_calibration:`), and FrontierPlot draws
// them.
//
// Shapes: latents (1, F, C, h, w); decoded video (F, H, W, 3) uint8.

import Checkpoints
import Diffusion
import Foundation
import Latte
import Sampling
import TensorCore
import VAE

/// One cache setting the benchmark compares.
public struct CacheSetting: Sendable, Equatable {
    public enum Policy: String, Sendable, Codable {
        case off, fixed, adaptive
    }

    public var policy: Policy
    /// Fixed: a full step every `interval` calls.
    public var interval: Int?
    /// Adaptive: the threshold and the cap on consecutive cached steps.
    public var threshold: Double?
    public var maxCached: Int?
    /// The timestep window (full steps while t >= start; off once t < stop).
    public var start: Int
    public var stop: Int

    public static func off(start: Int, stop: Int) -> CacheSetting {
        CacheSetting(policy: .off, start: start, stop: stop)
    }

    public static func fixed(_ interval: Int, start: Int, stop: Int) -> CacheSetting {
        CacheSetting(policy: .fixed, interval: interval, start: start, stop: stop)
    }

    public static func adaptive(threshold: Double, maxCached: Int, start: Int, stop: Int) -> CacheSetting {
        CacheSetting(policy: .adaptive, threshold: threshold, maxCached: maxCached, start: start, stop: stop)
    }

    /// The render's initial cache state (nil: no cache).
    func state() -> SkipCacheState? {
        switch policy {
        case .off: return nil
        case .fixed:
            return SkipCacheState(
                schedule: SkipCacheSchedule(interval: interval ?? 1, start: start, stop: stop, stopRule: .below))
        case .adaptive:
            return SkipCacheState(
                schedule: SkipCacheSchedule(
                    interval: 1, start: start, stop: stop, stopRule: .below,
                    adaptive: AdaptiveCachePolicy(
                        threshold: threshold ?? 0, maxCached: maxCached ?? 1,
                        alphasCumprod: NoiseSchedule.linear().alphasCumprod)))
        }
    }

    /// "off", "N3", "adaptive 0.1" (with the window when it is not `defaultStart`).
    public func label(defaultStart: Int) -> String {
        let window = start == defaultStart ? "" : " start \(start)"
        switch policy {
        case .off: return "off"
        case .fixed: return "N\(interval ?? 1)\(window)"
        case .adaptive: return "adaptive \(threshold.map { "\($0)" } ?? "?")\(window)"
        }
    }

    /// A file-name-safe form of the label.
    var fileTag: String {
        switch policy {
        case .off: return "off"
        case .fixed: return "N\(interval ?? 1)-s\(start)"
        case .adaptive: return "A\(threshold.map { "\($0)" } ?? "x")-c\(maxCached ?? 0)-s\(start)"
        }
    }
}

public struct CacheQualityResult: Codable, Sendable, Equatable {
    /// "off", "fixed" or "adaptive", with the interval N (fixed; 1 for off) or the threshold and cap (adaptive).
    public var policy: CacheSetting.Policy
    public var interval: Int?
    public var threshold: Double?
    public var maxCached: Int?
    /// The timestep window.
    public var start: Int
    public var stop: Int
    /// Full and cached transformer calls per video (mean over the videos; adaptive renders differ).
    public var fullSteps: Double
    public var cachedSteps: Double
    /// Denoise seconds for all videos of one run: best and median over the runs.
    public var seconds: Double
    public var medianSeconds: Double
    /// Speed-up of the best (and median) time against no cache.
    public var speedup: Double
    public var medianSpeedup: Double
    /// Speed-up the FLOP count predicts (LatteConfig.forwardFLOPs) against no cache.
    public var flopSpeedup: Double
    /// PSNR (dB) against the uncached video, mean and minimum over the videos, and each video's
    /// (an identical video counts as `identicalPSNR`); nil for no cache.
    public var psnr: Double?
    public var minPSNR: Double?
    public var psnrs: [Double]?
    /// SSIM against the uncached video (mean over frames, then over videos) and its minimum.
    public var ssim: Double?
    public var minSSIM: Double?
    /// Adaptive sweep: past a quality cliff (CacheQualityBenchmark.markCliffs).
    public var cliff: Bool?
    /// Videos per run, timed runs.
    public var videos: Int
    public var runs: Int
    public var threads: Int
    public var cpu: String
    /// The sampling setting: sampler, steps, guidance, and a readable summary with the model.
    public var sampler: String
    public var steps: Int
    public var guidance: Double
    public var setting: String

    enum CodingKeys: String, CodingKey {
        case policy, interval, threshold, start, stop
        case maxCached = "max_cached"
        case fullSteps = "full_steps"
        case cachedSteps = "cached_steps"
        case seconds
        case medianSeconds = "median_seconds"
        case speedup
        case medianSpeedup = "median_speedup"
        case flopSpeedup = "flop_speedup"
        case psnr
        case minPSNR = "min_psnr"
        case psnrs
        case ssim
        case minSSIM = "min_ssim"
        case cliff
        case videos, runs, threads, cpu, sampler, steps, guidance, setting
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
    /// The cache settings to compare; no cache is always measured first, as the reference.
    public var settings: [CacheSetting]
    /// Timed runs of every setting (best and median reported), interleaved.
    public var runs = 1
    /// If set, each video's frames are written there as `<class>-<seed>-<setting>.npy` (F, H, W, 3) uint8.
    public var framesDirectory: URL?

    public init(
        checkpoint: URL, vae: URL, heads: Int?, classes: [Int?], seeds: [Int], method: SamplerMethod, steps: Int,
        guidance: Float, settings: [CacheSetting]
    ) {
        self.checkpoint = checkpoint
        self.vae = vae
        self.heads = heads
        self.classes = classes
        self.seeds = seeds
        self.method = method
        self.steps = steps
        self.guidance = guidance
        self.settings = settings
    }

    /// Renders, times and compares; `report` sees each row as it is complete.
    public func run(engine: GEMMEngine, report: (CacheQualityResult) -> Void) throws -> [CacheQualityResult] {
        precondition(!seeds.isEmpty && !classes.isEmpty && runs >= 1, "need seeds, classes and runs")
        let model = try LatteTransformer.load(checkpoint: checkpoint, numHeads: heads, engine: engine)
        let decoder = try VAEDecoder(contentsOf: vae, engine: engine)
        let reference = CacheSetting.off(start: settings.first?.start ?? 900, stop: settings.first?.stop ?? 50)
        let all = [reference] + settings.filter { $0.policy != .off }
        let videos = classes.flatMap { c in seeds.map { (classIndex: c, seed: $0) } }

        // One untimed render per setting first: weight preparation and first-call costs are not the cache's.
        for setting in all {
            _ = try denoise(model: model, classIndex: videos[0].classIndex, seed: videos[0].seed, setting: setting)
        }
        // Timed renders, interleaved over the settings so that a noisy spell on a shared machine hits all alike.
        var seconds = [[Double]](repeating: [], count: all.count)
        var latents = [[Tensor]](repeating: [], count: all.count)
        var counts = [[(full: Int, cached: Int)]](repeating: [], count: all.count)
        for run in 0..<runs {
            for (i, setting) in all.enumerated() {
                var total = 0.0
                for v in videos {
                    let started = DispatchTime.now().uptimeNanoseconds
                    let (x, full, cached) = try denoise(
                        model: model, classIndex: v.classIndex, seed: v.seed, setting: setting)
                    total += Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
                    if run == 0 {
                        latents[i].append(x)
                        counts[i].append((full, cached))
                    }
                }
                seconds[i].append(total)
            }
        }

        // Decode once and compare with no cache.
        let uncached = try latents[0].enumerated().map { j, x in
            try decode(x, decoder: decoder, name: name(videos[j], reference))
        }
        let c = model.config
        let fullFLOPs = c.forwardFLOPs(batch: guidance != 1 ? 2 : 1, mode: .full)
        let cachedFLOPs = c.forwardFLOPs(batch: guidance != 1 ? 2 : 1, mode: .cached)
        let baseFLOPs = Double(steps * videos.count) * fullFLOPs
        let setting =
            "\(checkpoint.deletingPathExtension().lastPathComponent) \(method.rawValue) \(steps) steps, guidance \(guidance)"
        let base = Timing(samples: seconds[0])
        var results: [CacheQualityResult] = []
        for (i, s) in all.enumerated() {
            var psnrs: [Double] = [], ssims: [Double] = []
            if s.policy != .off {
                for (j, x) in latents[i].enumerated() {
                    let video = try decode(x, decoder: decoder, name: name(videos[j], s))
                    psnrs.append(min(VideoQuality.psnr(video.frames, uncached[j].frames), Self.identicalPSNR))
                    ssims.append(
                        VideoQuality.ssim(
                            video.frames, uncached[j].frames, frames: video.count, height: video.height,
                            width: video.width))
                }
            }
            let timing = Timing(samples: seconds[i])
            let full = counts[i].reduce(0) { $0 + $1.full }, cached = counts[i].reduce(0) { $0 + $1.cached }
            let flops = Double(full) * fullFLOPs + Double(cached) * cachedFLOPs
            let mean = { (xs: [Double]) in xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
            let row = CacheQualityResult(
                policy: s.policy, interval: s.policy == .adaptive ? nil : (s.interval ?? 1), threshold: s.threshold,
                maxCached: s.maxCached, start: s.start, stop: s.stop,
                fullSteps: Double(full) / Double(videos.count), cachedSteps: Double(cached) / Double(videos.count),
                seconds: timing.best, medianSeconds: timing.median, speedup: base.best / timing.best,
                medianSpeedup: base.median / timing.median, flopSpeedup: baseFLOPs / flops, psnr: mean(psnrs),
                minPSNR: psnrs.min(), psnrs: psnrs.isEmpty ? nil : psnrs, ssim: mean(ssims), minSSIM: ssims.min(),
                videos: videos.count, runs: runs, threads: Parallel.threadCount, cpu: MachineInfo.cpu,
                sampler: method.rawValue, steps: steps, guidance: Double(guidance), setting: setting)
            results.append(row)
        }
        Self.markCliffs(&results)
        results.forEach(report)
        return results
    }

    /// Marks the adaptive rows past a quality cliff: from the next smaller threshold (same window), the
    /// minimum PSNR fell below `cliffBelow` dB and more than twice as fast per unit of FLOP speed-up as
    /// it falls between the fixed intervals measured (or `cliffSlope` dB per 1x without them).
    public static func markCliffs(_ rows: inout [CacheQualityResult]) {
        let fixed = rows.filter { $0.policy == .fixed && $0.minPSNR != nil }.sorted { $0.flopSpeedup < $1.flopSpeedup }
        var slope = cliffSlope
        if let first = fixed.first, let last = fixed.last, last.flopSpeedup > first.flopSpeedup,
            let a = first.minPSNR, let b = last.minPSNR, a > b
        {
            slope = (a - b) / (last.flopSpeedup - first.flopSpeedup)
        }
        for start in Set(rows.map(\.start)) {
            let sweep = rows.indices.filter { rows[$0].policy == .adaptive && rows[$0].start == start }
                .sorted { (rows[$0].threshold ?? 0) < (rows[$1].threshold ?? 0) }
            for (previous, i) in zip(sweep, sweep.dropFirst()) {
                guard let before = rows[previous].minPSNR, let now = rows[i].minPSNR else { continue }
                let gained = max(rows[i].flopSpeedup - rows[previous].flopSpeedup, 1e-3)
                rows[i].cliff = now < cliffBelow && (before - now) / gained > 2 * slope
            }
        }
    }

    /// The PSNR (dB) reported for a video identical to the uncached one (JSON has no infinity).
    public static let identicalPSNR = 100.0

    /// Below this minimum PSNR (dB) a fall counts as a cliff; the slope without fixed rows (dB per 1x).
    public static let cliffBelow = 40.0
    public static let cliffSlope = 15.0

    private func name(_ v: (classIndex: Int?, seed: Int), _ s: CacheSetting) -> String {
        "\(v.classIndex.map(String.init) ?? "u")-\(v.seed)-\(s.fileTag)"
    }

    /// One video's denoise loop through the sampler the renderer uses; returns the final latents
    /// (1, F, C, h, w) and the full/cached call counts.
    func denoise(model: LatteTransformer, classIndex: Int?, seed: Int, setting: CacheSetting) throws -> (Tensor, Int, Int) {
        let c = model.config
        let shape = [1, c.numFrames, c.inChannels, c.latentSize, c.latentSize]
        let sampler = try ClassToVideoSampler(
            model: model, method: method, steps: steps, guidance: guidance, labels: classIndex.map { [$0] })
        let noise = GaussianNoise(seed: UInt64(bitPattern: Int64(seed)))
        var full = 0, cached = 0
        let x = try sampler.run(
            from: noise.tensor(shape: shape, stream: GaussianNoise.Stream.initialLatents), cache: setting.state(),
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
            "cache", "full/cached", "denoise s (best)", "median s", "speed-up", "median", "FLOP speed-up", "PSNR dB",
            "min", "SSIM", "min",
        ]
        func f(_ x: Double?, _ d: Int) -> String { x.map { String(format: "%.\(d)f", $0) } ?? "-" }
        let defaultStart = rows.first?.start ?? 900
        let cells = rows.map { r in
            [
                r.label(defaultStart: defaultStart) + (r.cliff == true ? " !" : ""),
                "\(f(r.fullSteps, 1))/\(f(r.cachedSteps, 1))", f(r.seconds, 3), f(r.medianSeconds, 3),
                f(r.speedup, 2) + "x", f(r.medianSpeedup, 2) + "x", f(r.flopSpeedup, 2) + "x", f(r.psnr, 2),
                f(r.minPSNR, 2), f(r.ssim, 4), f(r.minSSIM, 4),
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
                "\(r.setting); window \(r.start)/\(r.stop); \(r.videos) videos per setting, \(r.runs) timed run(s); cpu: \(r.cpu), threads: \(r.threads)"
            )
            out.append("PSNR/SSIM: each cached video against the uncached one of the same class and seed (uint8 RGB)")
            if rows.contains(where: { $0.cliff == true }) {
                out.append(
                    "!: past a quality cliff: from the next smaller threshold, the minimum PSNR fell below \(Int(cliffBelow)) dB, over twice as fast per unit of speed-up as between the fixed intervals"
                )
            }
        }
        return out.joined(separator: "\n")
    }
}

extension CacheQualityResult {
    /// The row's cache setting.
    public var cacheSetting: CacheSetting {
        CacheSetting(
            policy: policy, interval: interval, threshold: threshold, maxCached: maxCached, start: start, stop: stop)
    }

    /// "off", "N3", "adaptive 0.1" (with the window start when it is not `defaultStart`).
    public func label(defaultStart: Int) -> String { cacheSetting.label(defaultStart: defaultStart) }
}
