// RenderPlan: a job resolved against the daemon config: the model entry, class index, seeds, sampler,
// steps, guidance, Skip-Cache settings, fps and one output file per seed. Every check that needs the
// config (model, task, class, prompt, limits, output paths) happens here, at the job's line:column.

import Foundation

/// Everything the renderer needs for one job; no model code involved.
public struct RenderPlan: Sendable, Codable, Equatable {
    /// One video of the job.
    public struct Video: Sendable, Codable, Equatable {
        /// Position in the job's seed list (0-based).
        public var index: Int
        /// The seed.
        public var seed: Int
        /// Output path relative to the output directory (normalized).
        public var relativePath: String
        /// Absolute output file URL inside the output directory.
        public var url: URL
    }

    /// Job name ({job}: the job file name without its extension).
    public var jobName: String
    /// The model entry.
    public var model: ModelEntry
    /// The task.
    public var task: RenderTask
    /// Class label id (class-conditional models), else nil.
    public var classIndex: Int?
    /// Class name when the model has names.
    public var className: String?
    /// Prompt (text-to-video).
    public var prompt: String?
    /// Negative prompt (text-to-video; "" by default).
    public var negativePrompt: String?
    /// Sampler.
    public var sampler: Sampler
    /// Sampling steps.
    public var steps: Int
    /// Classifier-free guidance scale; 1.0: no guidance (a single conditional pass).
    public var guidance: Double
    /// Skip-Cache settings; nil: off.
    public var cache: SkipCacheSettings?
    /// MP4 frame rate.
    public var fps: Int
    /// Queue priority.
    public var priority: Int
    /// One entry per seed.
    public var videos: [Video]
    /// The config's limits (frames and resolution are checked by the renderer against the checkpoint).
    public var limits: Limits

    /// True when classifier-free guidance runs (two passes per step).
    public var usesGuidance: Bool { guidance != 1.0 }
}

extension RenderPlan {
    /// Resolves a parsed job against `config`; throws `JobError.invalid` listing every problem.
    /// `jobName` fills {job} (default: the job file name without extension).
    public init(job: JobSpec, config: DaemonConfig, jobName: String? = nil) throws {
        let sink = DiagnosticSink(file: job.file)
        guard let plan = Self.resolve(job, config: config, jobName: jobName, sink: sink) else {
            throw JobError.invalid(sink.sorted)
        }
        try sink.throwIfAny()
        self = plan
    }

    /// The job name derived from a job file name: "jobs/biking.yaml" → "biking".
    public static func jobName(forFile file: String) -> String {
        let last = URL(fileURLWithPath: file).lastPathComponent
        for ext in [".yaml", ".yml"] where last.hasSuffix(ext) && last.count > ext.count {
            return String(last.dropLast(ext.count))
        }
        return last
    }

    static func resolve(_ job: JobSpec, config: DaemonConfig, jobName: String?, sink: DiagnosticSink) -> RenderPlan? {
        let root = job.marks["job"] ?? YAMLMark(line: 1, column: 1)
        func mark(_ key: String) -> YAMLMark { job.marks[key] ?? root }
        guard let model = config.model(named: job.model) else {
            if !job.model.isEmpty {
                let names = config.models.map(\.name)
                sink.error(
                    mark("model"), "unknown model '\(job.model)'" + Suggestions.didYouMean(job.model, in: names),
                    hint: "models in \(config.file): \(names.joined(separator: ", "))")
            }
            return nil
        }
        // A model whose files failed their check: say so, rather than judge the job against the
        // entry's facts (class count, task) that its files never confirmed.
        if let problem = config.modelProblems[model.name] {
            sink.error(mark("model"), problem.message, hint: problem.hint)
            return nil
        }
        let d = model.defaults
        if let task = job.task, task != model.task {
            sink.error(
                mark("task"), "model '\(model.name)' is \(model.task.rawValue), not \(task.rawValue)",
                hint: "fix `task:` or pick another model")
        }

        // Class.
        var classIndex: Int? = nil
        var className: String? = nil
        if model.isConditional {
            switch job.classLabel {
            case nil where job.marks["class"] == nil:
                sink.error(
                    root, "model '\(model.name)' is class-conditional and needs 'class'",
                    hint: "add `class: NAME` or `class: INDEX` (0...\(model.numClasses - 1))")
            case nil:
                break  // given but invalid: already reported
            case .index(let i)?:
                if i < model.numClasses {
                    classIndex = i
                    className = model.classes?[i]
                } else {
                    sink.error(
                        mark("class"), "class index \(i) is out of range for model '\(model.name)'",
                        hint: "use 0...\(model.numClasses - 1)")
                }
            case .name(let name)?:
                if let names = model.classes {
                    if let i = names.firstIndex(of: name) {
                        classIndex = i
                        className = name
                    } else {
                        sink.error(
                            mark("class"),
                            "unknown class '\(name)' for model '\(model.name)'"
                                + Suggestions.didYouMean(name, in: names),
                            hint:
                                "class names are case-sensitive; see the model's class list, or give an index 0...\(model.numClasses - 1)"
                        )
                    }
                } else {
                    sink.error(
                        mark("class"), "model '\(model.name)' has no class names",
                        hint: "give an index 0...\(model.numClasses - 1), or add `classes:` to the model entry")
                }
            }
        } else if job.classLabel != nil {
            let why = model.task == .textToVideo ? "is text-to-video" : "is unconditional"
            sink.error(mark("class"), "model '\(model.name)' \(why) and takes no 'class'", hint: "remove 'class'")
        }

        // Prompt.
        var prompt: String? = nil
        var negative: String? = nil
        if model.task == .textToVideo {
            if let p = job.prompt {
                prompt = p
            } else if job.marks["prompt"] == nil {
                sink.error(
                    root, "text-to-video jobs need a 'prompt'", hint: "add `prompt: \"a dog surfing a wave at sunset\"`"
                )
            }
            negative = job.negativePrompt ?? d.negativePrompt
        } else {
            for key in ["prompt", "negative_prompt"] where job.marks[key] != nil {
                sink.error(
                    mark(key), "'\(key)' is for text-to-video models; '\(model.name)' is class-to-video",
                    hint: "remove '\(key)'")
            }
        }

        // Sampling.
        let sampler = job.sampling.sampler ?? d.sampler
        if model.task == .textToVideo && sampler == .ddpm {
            sink.error(mark("sampler"), "text-to-video models sample with ddim only", hint: "use `sampler: ddim`")
        }
        let steps = job.sampling.steps ?? d.steps
        if steps > config.limits.maxSteps {
            let source = job.sampling.steps == nil ? " (the model's default)" : ""
            sink.error(
                mark("steps"), "\(steps) steps\(source) exceed limits.max_steps \(config.limits.maxSteps)",
                hint: "use at most \(config.limits.maxSteps) steps")
        }
        var guidance = job.sampling.guidance ?? d.guidance
        if !model.isConditional && model.task == .classToVideo {
            if guidance != 1.0 {
                sink.error(
                    mark("guidance"), "model '\(model.name)' is unconditional; guidance must be 1.0",
                    hint: "remove 'guidance'")
            }
            guidance = 1.0
        }
        var cache = d.cache
        if let choice = job.sampling.cache {
            let base = d.cache ?? model.preset.defaults.cache ?? SkipCacheSettings(interval: 2, start: 900, stop: 50)
            cache = resolveCache(choice, base: base, mark: mark("cache"), sink: sink)
        }
        if let target = cache?.adaptive?.targetPSNR, cache?.adaptive?.threshold == nil {
            let at = job.sampling.cache == nil ? root : mark("cache")
            if let calibration = model.cacheCalibration {
                let start = cache?.start ?? 0
                switch calibration.threshold(forTargetPSNR: target, sampler: sampler.rawValue, steps: steps, start: start) {
                case .success(let point):
                    cache?.adaptive?.threshold = point.threshold
                    cache?.adaptive?.maxCached = point.maxCached
                case .failure(let problem):
                    sink.error(
                        at, "cache target_psnr \(target): \(problem)",
                        hint: "lower target_psnr, give `threshold:`, or calibrate at these settings (skipdit bench cache)")
                }
            } else {
                sink.error(
                    at, "cache target_psnr needs a calibration, and model '\(model.name)' has none",
                    hint:
                        "give `threshold:` instead, or save `skipdit bench cache --model \(model.name) --json` to a file and name it in the model's `cache_calibration:`"
                )
            }
        }
        let fps = job.sampling.fps ?? d.fps

        // Seeds and outputs.
        let seeds = job.seeds ?? [d.seed]
        let maxVideos = config.limits.maxVideosPerJob
        guard seeds.count <= maxVideos else {
            sink.error(
                mark("seeds"),
                "'seeds' lists \(seeds.count) seeds; at most \(maxVideos) videos per job (limits.max_videos_per_job)",
                hint:
                    "split it into jobs of at most \(maxVideos) seeds, or raise limits.max_videos_per_job in \(config.file)"
            )
            return nil
        }
        let name = jobName ?? Self.jobName(forFile: job.file)
        let template = job.output ?? OutputTemplate.defaultTemplate
        var videos: [Video] = []
        var seen: [String: Int] = [:]
        for (index, seed) in seeds.enumerated() {
            var values = ["seed": String(seed), "index": String(index), "job": name, "model": model.name]
            if let classIndex { values["class"] = className ?? String(classIndex) }
            if values["class"] == nil, case .success(let used) = OutputTemplate.placeholders(in: template),
                used.contains("class")
            {
                sink.error(
                    mark("output"), "output uses {class} but model '\(model.name)' takes no class",
                    hint: "remove {class}")
                break
            }
            switch OutputTemplate.expand(template, values: values) {
            case .failure(let problem):
                sink.error(job.output == nil ? root : mark("output"), problem.message, hint: problem.hint)
            case .success(let path):
                if let other = seen[path] {
                    sink.error(
                        mark("output"), "seeds \(seeds[other]) and \(seed) would both write '\(path)'",
                        hint: "put {seed} in the output name, e.g. \"\(name)-{seed}.mp4\"")
                } else {
                    seen[path] = index
                    videos.append(
                        Video(
                            index: index, seed: seed, relativePath: path,
                            url: config.output.appendingPathComponent(path)))
                    continue
                }
            }
            break
        }

        guard sink.isEmpty else { return nil }
        return RenderPlan(
            jobName: name, model: model, task: model.task, classIndex: classIndex, className: className, prompt: prompt,
            negativePrompt: negative, sampler: sampler, steps: steps, guidance: guidance, cache: cache, fps: fps,
            priority: job.priority, videos: videos, limits: config.limits)
    }

    /// Applies a cache choice over `base`; checks start > stop, and that an adaptive policy has a
    /// threshold or a target PSNR.
    static func resolveCache(_ choice: CacheChoice, base: SkipCacheSettings?, mark: YAMLMark, sink: DiagnosticSink)
        -> SkipCacheSettings?
    {
        guard case .on(let o) = choice else { return nil }
        let b = base ?? SkipCacheSettings(interval: 2, start: 900, stop: 50)
        let adaptive =
            o.policy.map { $0 == .adaptive } ?? (o.interval == nil && (o.namesAdaptiveField || b.adaptive != nil))
        let (start, stop) = (o.start ?? b.start, o.stop ?? b.stop)
        let settings: SkipCacheSettings
        if adaptive {
            var a = b.adaptive ?? AdaptiveCacheSettings()
            if let t = o.threshold { (a.threshold, a.targetPSNR) = (t, nil) }
            if let p = o.targetPSNR { (a.threshold, a.targetPSNR) = (nil, p) }
            if let m = o.maxCached { a.maxCached = m }
            guard a.threshold != nil || a.targetPSNR != nil else {
                sink.error(
                    mark, "the adaptive Skip-Cache policy needs 'threshold' or 'target_psnr'",
                    hint: "e.g. `cache: { policy: adaptive, threshold: 4 }`")
                return nil
            }
            settings = SkipCacheSettings(adaptive: a, start: start, stop: stop)
        } else {
            let interval = o.interval ?? (b.adaptive == nil ? b.interval : 2)
            settings = SkipCacheSettings(interval: interval, start: start, stop: stop)
        }
        guard settings.start > settings.stop else {
            sink.error(
                mark, "cache start \(settings.start) must be above stop \(settings.stop)",
                hint: "timesteps run from 999 down to 0; caching happens between start and stop")
            return nil
        }
        return settings
    }
}
