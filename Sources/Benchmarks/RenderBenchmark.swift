// `bench render`: one whole clip at the released sizes with random weights (no download), rendered
// by RenderPipeline as the daemon renders a job (the job and the configuration are real files read
// by the real parsers; the models are built in memory and put into the pipeline's model cache), and
// timed phase by phase (RenderProfile): text encode, full and cached steps, the sampler's arithmetic,
// checkpoint writes, VAE decode, conversion to bytes, MP4 encode. Each phase with a FLOP count gets
// its GFLOP/s and its fraction of the best GEMM GFLOP/s that the same binary reaches in the same run
// at the same precision (the yardstick); `total` is the whole render's, with the peak RSS.
//
// The text encoder is T5 (T5Encoder.synthetic: every block shares one random block, so its time is
// that of distinct weights but its memory one block's) on a prompt of `captionTokens` tokens with
// the tokenizer's padding to 120: the tokenizer itself (microseconds) does not run.

import Foundation
import Jobs
import Latte
import Render
import TensorCore
import TextEncoder
import VAE

public struct RenderBenchmark {
    public enum Task: String, CaseIterable, Sendable {
        case c2v, t2v
    }

    /// The models' sizes: the released ones by default (tests use tiny ones).
    public struct Sizes {
        /// Latte-XL/2-skip for UCF101 (16 frames of 32x32 latents: 256x256).
        public var classToVideo = LatteConfig.xl2(numClasses: 101)
        public var vae = AutoencoderKLConfig.sdVAEFtEMA
        /// The Latte T2V-skip transformer (64x64 latents: 512x512), `textToVideoFrames` frames.
        public var textToVideo = LatteT2VConfig.released
        public var textToVideoFrames = 16
        public var t5 = T5Config.xxl
        public var temporalVAE = TemporalDecoderConfig.svd
        /// Tokens of the prompt (pieces and eos; the tokenizer's 120 at most, the dearest case).
        public var captionTokens = 120
        /// The GEMMs whose best GFLOP/s is the yardstick.
        public var gemmShapes = GEMMShape.transformer

        public init() {}
    }

    public var task: Task
    public var sizes = Sizes()
    public var compute: ComputeSettings
    /// Job fields as a job file writes them (nil: the released sample config's): `sampler`
    /// (ddpm | ddim), `steps`, `cache` (e.g. "off", "N2-700-50", "{ policy: adaptive, threshold: 6 }").
    public var sampler: String?
    public var steps: Int?
    public var cache: String?
    /// Save the render state every this many steps (the daemon's default).
    public var checkpointEvery = 5
    /// Timed runs of each yardstick GEMM.
    public var gemm = Benchmark(warmup: 1, runs: 3)

    public init(task: Task, compute: ComputeSettings) {
        self.task = task
        self.compute = compute
    }

    /// Renders the clip; `report` sees the yardstick, then every phase and `total`.
    public func run(report: (BenchmarkResult) -> Void = { _ in }) throws -> [BenchmarkResult] {
        let pipeline = RenderPipeline(compute: compute, checkpointEvery: checkpointEvery)
        let engine = try pipeline.models.engine(for: compute)
        let info = (engine as? GEMMEngineDescribing)?.info
        let threads = info?.threads ?? Parallel.threadCount

        let peakRow = try GEMMBenchmark.peak(
            engine: engine, shapes: sizes.gemmShapes, threads: compute.threads > 0 ? compute.threads : nil,
            benchmark: gemm)
        let peakGflops = peakRow.gflops ?? .nan
        report(peakRow)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "skipdit-bench-render-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = try DaemonConfig.parse(configText, file: "bench-render.yaml", directory: folder)
        let plan = try JobFile.validate(jobText, file: "bench-render-job.yaml", config: config)
        guard let entry = config.models.first(where: { $0.name == Self.modelName }) else {
            throw BenchmarkError.engine("the benchmark configuration lost its model")
        }
        try insertModels(into: pipeline.models, entry: entry, engine: engine)

        let profile = RenderProfile()
        pipeline.profile = profile
        let observer = StateFileObserver(url: folder.appendingPathComponent("bench.state"))
        MemoryUsage.resetPeak()
        var total = 0.0
        _ = try Stopwatch.time(&total) { try pipeline.render(plan: plan, resume: nil, observer: observer) }
        let peakRSS = MemoryUsage.peakBytes

        let guided = plan.usesGuidance ? 2 : 1
        let flops = phaseFLOPs(profile: profile, batch: guided)
        var rows: [BenchmarkResult] = []
        func row(_ name: String, seconds: Double, flops: Double?, shape: String, notes: [String]? = nil)
            -> BenchmarkResult
        {
            var r = BenchmarkResult(
                name: name, backend: engine.backend.rawValue, precision: engine.precision.rawValue, shape: shape,
                timing: Timing(samples: [seconds]), flops: flops.flatMap { $0 > 0 ? $0 : nil }, threads: threads,
                library: info?.library, notes: notes)
            r.ofPeak = r.gflops.map { $0 / peakGflops }
            return r
        }
        for phase in RenderProfile.Phase.allCases {
            guard let s = profile.seconds[phase] else { continue }
            rows.append(row(phase.rawValue, seconds: s, flops: flops[phase], shape: shape(of: phase, profile)))
        }
        let accounted = rows.reduce(0) { $0 + $1.seconds }
        let what = "\(plan.sampler.rawValue) \(plan.steps) steps, cache \(plan.cache.map { "\($0)" } ?? "off")"
        var totalRow = row(
            "total", seconds: total, flops: flops.values.reduce(0, +), shape: what,
            notes: [
                String(format: "the phases account for %.1f%% of the total", 100 * accounted / total),
                String(format: "peak RSS %.2f GB", Double(peakRSS) / 1e9),
            ])
        totalRow.peakRSSBytes = peakRSS
        rows.append(totalRow)
        rows.forEach(report)
        return [peakRow] + rows
    }

    static let modelName = "bench"

    /// The configuration: one model of the task's released preset; its files are never read.
    var configText: String {
        var model = ["    checkpoint: random-weights.pt", "    vae: random-vae"]
        switch task {
        case .c2v: model.insert("    preset: ucf101", at: 0)
        case .t2v:
            model = ["    preset: t2v", "    base: random-Latte"] + model + ["    frames: \(sizes.textToVideoFrames)"]
        }
        return
            (["spool: spool", "output: out", "models:", "  \(Self.modelName):"] + model + [
                "compute:", "  backend: \(compute.backend.rawValue)", "  precision: \(compute.precision.rawValue)",
                "  threads: \(compute.threads)",
            ]).joined(separator: "\n") + "\n"
    }

    /// The job: class 0 or a prompt, seed 1, the overrides given.
    var jobText: String {
        var lines = ["version: 1", "model: \(Self.modelName)", "seed: 1", "output: \"bench-{seed}.mp4\""]
        switch task {
        case .c2v: lines += ["task: class-to-video", "class: 0"]
        case .t2v: lines += ["task: text-to-video", "prompt: \"a benchmark prompt\""]
        }
        if let sampler { lines.append("sampler: \(sampler)") }
        if let steps { lines.append("steps: \(steps)") }
        if let cache { lines.append("cache: \(cache)") }
        return lines.joined(separator: "\n") + "\n"
    }

    private func insertModels(into cache: ModelCache, entry: ModelEntry, engine: GEMMEngine) throws {
        switch task {
        case .c2v:
            cache.insert(
                classToVideo: try LatteTransformer.random(config: sizes.classToVideo, seed: 1, engine: engine),
                vae: try VAEDecoder.random(config: sizes.vae, engine: engine, seed: 1), for: entry, compute: compute)
        case .t2v:
            let (t5, tokens) = (sizes.t5, sizes.captionTokens)
            cache.insert(
                textToVideo: try LatteT2VTransformer.random(config: sizes.textToVideo, seed: 1, engine: engine),
                vae: try TemporalVAEDecoder.random(config: sizes.temporalVAE, engine: engine, seed: 1),
                promptEncoder: { try SyntheticPromptEncoder(config: t5, tokens: tokens, engine: engine) }, for: entry,
                compute: compute)
        }
    }

    /// FLOPs per phase, from the configurations and the profile's counts.
    private func phaseFLOPs(profile: RenderProfile, batch: Int) -> [RenderProfile.Phase: Double] {
        var flops: [RenderProfile.Phase: Double] = [:]
        switch task {
        case .c2v:
            let c = sizes.classToVideo
            flops[.fullSteps] = Double(profile.fullSteps) * c.forwardFLOPs(batch: batch, mode: .full)
            flops[.cachedSteps] = Double(profile.cachedSteps) * c.forwardFLOPs(batch: batch, mode: .cached)
            let latent = c.latentSize
            flops[.decode] =
                Double(profile.frames)
                * VAEBenchmark.flops(config: sizes.vae, latentHeight: latent, latentWidth: latent)
        case .t2v:
            let c = sizes.textToVideo, f = sizes.textToVideoFrames, l = sizes.captionTokens
            flops[.textEncode] = sizes.t5.flops(batch: batch, tokens: T5Tokenizer.defaultMaxLength)
            flops[.fullSteps] =
                Double(profile.fullSteps) * c.forwardFLOPs(batch: batch, frames: f, captionTokens: l, mode: .full)
            flops[.cachedSteps] =
                Double(profile.cachedSteps) * c.forwardFLOPs(batch: batch, frames: f, captionTokens: l, mode: .cached)
            flops[.decode] =
                Double(profile.frames)
                * VAEBenchmark.temporalFlops(
                    config: sizes.temporalVAE, latentHeight: c.sampleSize, latentWidth: c.sampleSize)
        }
        return flops
    }

    private func shape(of phase: RenderProfile.Phase, _ profile: RenderProfile) -> String {
        switch phase {
        case .load: return "models in memory"
        case .textEncode: return "T5 \(sizes.t5.numLayers)x\(sizes.t5.dModel), 2x\(T5Tokenizer.defaultMaxLength) tokens"
        case .fullSteps: return "\(profile.fullSteps) forwards"
        case .cachedSteps: return "\(profile.cachedSteps) forwards"
        case .sampler: return "\(profile.fullSteps + profile.cachedSteps) steps"
        case .checkpoint: return "\(profile.checkpoints) writes"
        case .decode, .convert, .encode: return "\(profile.frames) frames"
        }
    }
}

/// The T5 encode of a prompt as T5PromptEncoder runs it (the prompt and "" padded to 120 in one
/// batch, the first K positions kept) with T5Encoder.synthetic weights and fixed token ids.
final class SyntheticPromptEncoder: PromptEncoding {
    let encoder: T5Encoder
    let tokens: Int

    init(config: T5Config, tokens: Int, engine: GEMMEngine) throws {
        encoder = try T5Encoder.synthetic(config: config, engine: engine, seed: 3)
        self.tokens = tokens
    }

    var identity: String { "synthetic T5 \(encoder.config.numLayers)x\(encoder.config.dModel), \(tokens) tokens" }

    func embeddings(for request: PromptRequest) throws(TextEncoderError) -> PromptEmbeddings {
        let length = T5Tokenizer.defaultMaxLength, vocab = encoder.config.vocabSize
        let eos = 1
        let prompt = (0..<length).map { $0 < tokens - 1 ? 3 + $0 % (vocab - 3) : $0 == tokens - 1 ? eos : 0 }
        let mask = (0..<length).map { $0 < tokens ? 1 : 0 }
        var ids = [prompt], masks = [mask]
        if request.withNegative {
            ids.append([eos] + Array(repeating: 0, count: length - 1))
            masks.append([1] + Array(repeating: 0, count: length - 1))
        }
        return PromptEmbeddings(states: encoder.encode(ids: ids, masks: masks), tokenCount: tokens)
    }
}

/// Writes the render state where `skipdit render` does, and never stops the render.
private final class StateFileObserver: RenderObserver {
    let url: URL

    init(url: URL) { self.url = url }

    func progress(_ p: RenderProgress) {}
    func control() -> RenderControl { .proceed }
    func save(_ state: RenderState) throws { try state.encoded().write(to: url, options: .atomic) }
}
