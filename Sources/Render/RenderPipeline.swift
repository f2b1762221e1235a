// One job from plan to files: for each seed, conditioning, the denoise loop (resumable), VAE decode
// frame by frame, MP4 + poster written atomically; then the result. The daemon's worker and
// `skipdit render` both run jobs through this.

import Checkpoints
import Diffusion
import Foundation
import Jobs
import Latte
import Sampling
import TensorCore
import TextEncoder
import VAE
import VideoIO

/// What a finished job produced.
public struct JobResult: Sendable {
    public var videos: [FinishedVideo]
    /// Seconds per phase, summed over the videos (load, denoise, decode, encode).
    public var timings: [String: Double]
    /// What the videos' bits depend on besides the job and the model (README, "Reproducibility"):
    /// the GEMM library and its kernel family, precision, thread count and the CPU.
    public var computedBy: [(String, String)]

    public init(videos: [FinishedVideo], timings: [String: Double], computedBy: [(String, String)]) {
        self.videos = videos
        self.timings = timings
        self.computedBy = computedBy
    }
}

public final class RenderPipeline: @unchecked Sendable {
    public let models: ModelCache
    public var compute: ComputeSettings
    /// Save the render state every this many sampler steps.
    public var checkpointEvery: Int
    public var mp4Options: MP4Options
    /// Testing aid: also write each video's final latents (1, F, C, h, w) as `<output>.latents.npy`,
    /// so a resumed render can be compared bit for bit with an uninterrupted one.
    public var dumpsLatents = false
    /// Where prompt embeddings are kept between jobs (nil: in memory only).
    public var promptCacheDirectory: URL? {
        didSet { promptCache = PromptEmbeddingCache(directory: promptCacheDirectory) }
    }
    var promptCache = PromptEmbeddingCache()
    /// When set, the renders' time is added to it phase by phase (`skipdit bench render`).
    public var profile: RenderProfile?

    public init(
        models: ModelCache = ModelCache(), compute: ComputeSettings, checkpointEvery: Int = 5,
        mp4Options: MP4Options = MP4Options()
    ) {
        self.models = models
        self.compute = compute
        self.checkpointEvery = max(1, checkpointEvery)
        self.mp4Options = mp4Options
    }

    /// A string identifying everything that determines the latents; a saved state with another
    /// digest is not resumed.
    public static func digest(_ plan: RenderPlan) -> String {
        let cache = plan.cache.map { "\($0)" } ?? "off"
        let seeds = plan.videos.map { String($0.seed) }.joined(separator: ",")
        return [
            "v1", plan.model.name, plan.model.checkpoint.path, plan.sampler.rawValue, String(plan.steps),
            String(plan.guidance), cache, plan.classIndex.map(String.init) ?? "-", plan.prompt ?? "-", seeds,
        ].joined(separator: "|")
    }

    /// Renders the videos `videos` of `plan` (default: all), resuming from `resume` when it belongs to
    /// this plan and to one of those videos. Each video depends only on the plan and its seed, so a
    /// video rendered alone, on another machine or resumed from its state is the same file as in a
    /// whole-job render (same binary, backend, precision and thread count).
    public func render(plan: RenderPlan, resume: RenderState?, observer: RenderObserver, videos: Range<Int>? = nil)
        throws -> JobResult
    {
        let observer = profile?.observing(observer) ?? observer
        let range = videos ?? 0..<plan.videos.count
        precondition(
            range.lowerBound >= 0 && range.upperBound <= plan.videos.count && !range.isEmpty,
            "videos \(range) of a job with \(plan.videos.count)")
        var timings: [String: Double] = [:]
        let loadStart = Date()
        observer.progress(
            RenderProgress(phase: .loading, video: 0, videos: plan.videos.count, step: 0, steps: plan.steps))
        let (sampling, decoder) = try prepare(plan, observer: observer, timings: &timings)
        timings["load"] = Date().timeIntervalSince(loadStart) - (timings["conditioning"] ?? 0)
        profile?.add(.load, timings["load"] ?? 0)
        if let conditioning = timings["conditioning"] { profile?.add(.textEncode, conditioning) }
        let digest = Self.digest(plan)
        var state: RenderState
        if let resume, resume.planDigest == digest, range.contains(resume.videoIndex),
            resume.latents.shape == sampling.latentShape
        {
            state = resume
        } else {
            state = freshState(digest: digest, video: range.lowerBound, sampling: sampling, plan: plan, finished: [])
        }
        let started = Date()
        let totalSteps = plan.steps * range.upperBound
        let stepsDoneAtStart = state.videoIndex * plan.steps + state.iteration
        while state.videoIndex < range.upperBound {
            let video = plan.videos[state.videoIndex]
            let index = state.videoIndex
            let latents = try sampling.denoise(seed: video.seed, state: &state, observer: observer) { step, timing in
                profile?.addStep(timing)
                let done = index * plan.steps + step - stepsDoneAtStart
                let elapsed = Date().timeIntervalSince(started)
                let eta = done > 0 ? elapsed / Double(done) * Double(totalSteps - index * plan.steps - step) : nil
                observer.progress(
                    RenderProgress(
                        phase: .denoising, video: index, videos: plan.videos.count, step: step, steps: plan.steps,
                        etaSeconds: eta, lastStep: timing, fullSteps: timing.fullSteps,
                        cachedSteps: timing.cachedSteps))
            }
            observer.progress(
                RenderProgress(
                    phase: .decoding, video: index, videos: plan.videos.count, step: plan.steps, steps: plan.steps))
            var scaling = 0.0
            let z = Stopwatch.time(&scaling) { sampling.framesToDecode(latents, scalingFactor: decoder.scalingFactor) }
            profile?.add(.decode, scaling)
            var finished = try write(z, rounding: sampling.rounding, video: video, plan: plan, decoder: decoder)
            if dumpsLatents {
                let url = video.url.appendingPathExtension("latents.npy")
                do { try NumPy.write(latents, to: url) } catch {
                    throw RenderError.output(path: url.path, reason: "cannot write the latents: \(error)")
                }
            }
            finished.fullSteps = state.fullSteps
            finished.cachedSteps = state.cachedSteps
            if plan.cache?.adaptive != nil { finished.fullIterations = state.fullIterations }
            finished.timings["denoise"] = state.denoiseSeconds
            for (k, v) in finished.timings { timings[k, default: 0] += v }
            let done = state.finishedVideos + [finished]
            state = freshState(digest: digest, video: index + 1, sampling: sampling, plan: plan, finished: done)
            if state.videoIndex < range.upperBound { try observer.save(state) }
        }
        observer.progress(
            RenderProgress(
                phase: .done, video: plan.videos.count, videos: plan.videos.count, step: plan.steps, steps: plan.steps))
        return JobResult(videos: state.finishedVideos, timings: timings, computedBy: computedBy())
    }

    /// The engine that computed (library, kernel family, precision, threads) and the CPU it ran on.
    private func computedBy() -> [(String, String)] {
        var fields: [(String, String)] = []
        if let info = ((try? models.engine(for: compute)) as? GEMMEngineDescribing)?.info {
            fields += [
                ("library", info.library), ("precision", info.precision.rawValue), ("threads", String(info.threads)),
            ]
        }
        return fields + [("cpu", CPUFeatures.identity)]
    }

    /// The task's sampler and decoder for `plan`, after checking the model against the limits.
    /// Text-to-video also encodes the prompts here (the "conditioning" phase).
    private func prepare(_ plan: RenderPlan, observer: RenderObserver, timings: inout [String: Double]) throws
        -> (VideoSampling, FrameDecoder)
    {
        let method: SamplerMethod = plan.sampler == .ddpm ? .ddpm : .ddim
        switch plan.task {
        case .classToVideo:
            let model = try models.classToVideo(plan.model, compute: compute)
            let c = model.transformer.config
            try checkLimits(plan, frames: c.numFrames, pixels: c.latentSize * model.vae.upsampling)
            let sampler: ClassToVideoSampler
            do {
                sampler = try ClassToVideoSampler(
                    model: model.transformer, method: method, steps: plan.steps, guidance: Float(plan.guidance),
                    labels: plan.classIndex.map { [$0] })
            } catch { throw RenderError.unsupported("\(error)") }
            let sampling = ClassToVideoSampling(
                sampler: sampler,
                cache: plan.cache.map {
                    Self.schedule($0, stopRule: .below, alphasCumprod: NoiseSchedule.linear().alphasCumprod)
                }, checkpointEvery: checkpointEvery)
            return (sampling, model.vae)
        case .textToVideo:
            guard method == .ddim else { throw RenderError.unsupported("text-to-video samples with DDIM only") }
            observer.progress(
                RenderProgress(phase: .conditioning, video: 0, videos: plan.videos.count, step: 0, steps: plan.steps))
            let conditioningStart = Date()
            let captions = try encodePrompts(plan)
            timings["conditioning"] = Date().timeIntervalSince(conditioningStart)
            let frames = plan.model.frames
            let model = try models.textToVideo(plan.model, compute: compute, frames: frames)
            try checkLimits(plan, frames: frames, pixels: model.transformer.config.sampleSize * model.vae.upsampling)
            let scheduler: DDIMScheduler
            do { scheduler = try DDIMScheduler(config: model.scheduler, steps: plan.steps) } catch {
                throw RenderError.model(name: plan.model.name, reason: "scheduler: \(error)")
            }
            let sampler: TextToVideoSampler
            do {
                sampler = try TextToVideoSampler(
                    model: model.transformer, scheduler: scheduler, captions: captions, guidance: Float(plan.guidance))
            } catch { throw RenderError.unsupported("\(error)") }
            let sampling = TextToVideoSampling(
                sampler: sampler,
                cache: plan.cache.map {
                    Self.schedule($0, stopRule: .atOrBelow, alphasCumprod: scheduler.alphasCumprod.map(Double.init))
                },
                frames: frames, checkpointEvery: checkpointEvery)
            return (sampling, model.vae)
        }
    }

    /// A plan's Skip-Cache settings as the transformer's schedule (class-to-video stops after t < stop,
    /// text-to-video after t <= stop; alphasCumprod: the sampler's ᾱ per training timestep). A plan's
    /// adaptive threshold is always resolved.
    static func schedule(_ c: SkipCacheSettings, stopRule: SkipCacheSchedule.StopRule, alphasCumprod: [Double])
        -> SkipCacheSchedule
    {
        SkipCacheSchedule(
            interval: c.interval, start: c.start, stop: c.stop, stopRule: stopRule,
            adaptive: c.adaptive.map {
                AdaptiveCachePolicy(threshold: $0.threshold ?? 0, maxCached: $0.maxCached, alphasCumprod: alphasCumprod)
            })
    }

    private func checkLimits(_ plan: RenderPlan, frames: Int, pixels: Int) throws {
        guard frames <= plan.limits.maxFrames else {
            throw RenderError.unsupported(
                "the model renders \(frames) frames, above limits.max_frames \(plan.limits.maxFrames)")
        }
        guard pixels <= plan.limits.maxResolution else {
            throw RenderError.unsupported(
                "the model renders \(pixels)x\(pixels), above limits.max_resolution \(plan.limits.maxResolution)")
        }
    }

    private func freshState(
        digest: String, video: Int, sampling: VideoSampling, plan: RenderPlan, finished: [FinishedVideo]
    ) -> RenderState {
        let latents =
            video < plan.videos.count ? sampling.initialLatents(seed: plan.videos[video].seed) : Tensor(zeros: [1])
        return RenderState(
            planDigest: digest, videoIndex: video, iteration: 0, latents: latents, cacheCounter: 0, cachedStream: nil,
            finishedVideos: finished)
    }

    /// Decodes z (F, C, h, w) frame by frame into the MP4 (and the poster from the middle frame).
    private func write(
        _ z: Tensor, rounding: FrameRounding, video: RenderPlan.Video, plan: RenderPlan, decoder: FrameDecoder
    ) throws -> FinishedVideo {
        let f = z.shape[0]
        let directory = video.url.deletingLastPathComponent()
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw RenderError.output(
                path: directory.path, reason: "cannot create the output folder: \(error.localizedDescription)")
        }
        var writer: MP4Writer?
        // decodeSeconds includes the conversion to bytes (the record's "decode"); the profile has both.
        var decodeSeconds = 0.0, convertSeconds = 0.0, encodeSeconds = 0.0
        var poster: (rgb: [UInt8], width: Int, height: Int)?
        var t0 = Date()
        try decoder.decodeFrames(z) { index, frame in
            let (h, w) = (frame.shape[1], frame.shape[2])
            let rgb = Stopwatch.time(&convertSeconds) { FrameConversion.uint8(frame, rounding: rounding) }
            let t1 = Date()
            decodeSeconds += t1.timeIntervalSince(t0)
            if writer == nil {
                writer = try MP4Writer(url: video.url, width: w, height: h, fps: plan.fps, options: mp4Options)
            }
            try writer?.append(rgb: rgb)
            if index == f / 2 { poster = (rgb, w, h) }
            t0 = Date()
            encodeSeconds += t0.timeIntervalSince(t1)
        }
        let t2 = Date()
        try writer?.finish()
        let posterURL = PosterWriter.posterURL(forVideo: video.url)
        if let poster {
            do {
                try PosterWriter.writePNG(rgb: poster.rgb, width: poster.width, height: poster.height, to: posterURL)
            } catch {
                // A video without its poster is half an output: take the video back too.
                try? FileManager.default.removeItem(at: video.url)
                throw error
            }
        }
        let sha256 = try SHA256.hex(fileAt: video.url)
        encodeSeconds += Date().timeIntervalSince(t2)
        profile?.add(.decode, decodeSeconds - convertSeconds)
        profile?.add(.convert, convertSeconds)
        profile?.add(.encode, encodeSeconds)
        profile?.addFrames(f)
        let posterPath = (video.relativePath as NSString).deletingPathExtension + ".png"
        return FinishedVideo(
            seed: video.seed, path: video.relativePath, poster: posterPath, sha256: sha256,
            fullSteps: 0, cachedSteps: 0, timings: ["decode": decodeSeconds, "encode": encodeSeconds])
    }
}

extension RenderPipeline {
    /// Removes the partial outputs of `plan` that the processes `pids` left: the hidden temp files of a
    /// video or poster whose writer was killed before it renamed the file into place (an earlier
    /// attempt of the job). Returns the removed files. The finished files are left alone: a render
    /// rewrites them with the same bytes.
    /// Removes every temp file next to video `index`'s MP4 and poster, whoever wrote it: for a process
    /// that alone may write that video (a Slurm array task: Slurm runs one instance of it at a time).
    public static func removePartialOutputs(of plan: RenderPlan, video index: Int) -> [URL] {
        let url = plan.videos[index].url
        return [url, PosterWriter.posterURL(forVideo: url)].flatMap { destination in
            PartialOutput.removeLeftovers(
                of: destination, writtenBy: Set(PartialOutput.leftovers(of: destination).map(\.pid)))
        }
    }

    public static func removePartialOutputs(of plan: RenderPlan, writtenBy pids: Set<Int32>) -> [URL] {
        guard !pids.isEmpty else { return [] }
        return plan.videos.flatMap { video in
            [video.url, PosterWriter.posterURL(forVideo: video.url)].flatMap {
                PartialOutput.removeLeftovers(of: $0, writtenBy: pids)
            }
        }
    }
}
