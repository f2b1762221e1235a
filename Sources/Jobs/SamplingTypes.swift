// SamplingTypes: the small value types shared by jobs, the config and the render plan: task, sampler,
// Skip-Cache settings and the sampling defaults a model entry supplies.

/// What a model renders.
public enum RenderTask: String, Sendable, Codable, CaseIterable {
    case classToVideo = "class-to-video"
    case textToVideo = "text-to-video"
}

/// The diffusion sampler.
public enum Sampler: String, Sendable, Codable, CaseIterable {
    case ddpm, ddim
}

/// Skip-Cache parameters: a full step every `interval` calls (or, adaptive, when the features moved);
/// steps with t >= `start` are always full; the cache is dropped after the first step with t below
/// `stop` (class-to-video: t < stop, the official `close_deepcache_at`; text-to-video: t <= stop, the
/// official `N<gap>-<start>-<stop>` rule).
public struct SkipCacheSettings: Sendable, Codable, Equatable, CustomStringConvertible {
    /// Full step every `interval` calls (1: every step full); unused by the adaptive policy.
    public var interval: Int
    /// Steps with original timestep >= start are always full.
    public var start: Int
    /// Timestep threshold that ends caching.
    public var stop: Int
    /// The adaptive policy (skipdit's addition); nil: the fixed interval of the reference.
    public var adaptive: AdaptiveCacheSettings?

    /// Creates fixed-interval settings (the reference policy).
    public init(interval: Int, start: Int, stop: Int) {
        self.interval = interval
        self.start = start
        self.stop = stop
    }

    /// Creates adaptive settings.
    public init(adaptive: AdaptiveCacheSettings, start: Int, stop: Int) {
        self.init(interval: 1, start: start, stop: stop)
        self.adaptive = adaptive
    }

    /// The official text-to-video flag form, e.g. "N2-700-50"; adaptive settings read
    /// "adaptive-t4.0-c8-900-50" (threshold, most cached steps in a row, start, stop), or
    /// "adaptive-psnr30.0-c8-900-50" before a target PSNR is resolved to a threshold.
    public var description: String {
        guard let a = adaptive else { return "N\(interval)-\(start)-\(stop)" }
        let how = a.threshold.map { "t\($0)" } ?? a.targetPSNR.map { "psnr\($0)" } ?? "t?"
        return "adaptive-\(how)-c\(a.maxCached)-\(start)-\(stop)"
    }

    /// Parses "N<interval>-<start>-<stop>" (e.g. "N2-700-50").
    public init?(flag: String) {
        guard flag.hasPrefix("N") || flag.hasPrefix("n") else { return nil }
        let parts = flag.dropFirst().split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let interval = Int(parts[0]), let start = Int(parts[1]), let stop = Int(parts[2])
        else { return nil }
        self.init(interval: interval, start: start, stop: stop)
    }

    /// Allowed interval values.
    public static let intervalRange = 1...1000
    /// Allowed start/stop values (original timesteps; start > stop).
    public static let timestepRange = 0...1000
}

/// The adaptive Skip-Cache policy's settings: a threshold on the estimated error of caching a step
/// (Latte's AdaptiveCachePolicy), given directly or as a target PSNR that the model's calibration
/// turns into a threshold when a plan is resolved.
public struct AdaptiveCacheSettings: Sendable, Codable, Equatable {
    /// The estimated error above which a step runs full (nil until resolved from `targetPSNR`).
    public var threshold: Double?
    /// The mean PSNR (dB, against the uncached video) the threshold was chosen for, if it was.
    public var targetPSNR: Double?
    /// At most this many cached steps in a row.
    public var maxCached: Int

    public init(threshold: Double? = nil, targetPSNR: Double? = nil, maxCached: Int = Self.defaultMaxCached) {
        self.threshold = threshold
        self.targetPSNR = targetPSNR
        self.maxCached = maxCached
    }

    /// The default cap on consecutive cached steps.
    public static let defaultMaxCached = 8
    /// Allowed thresholds, target PSNRs (dB) and caps.
    public static let thresholdRange = 0.0...1000.0
    public static let targetPSNRRange = 10.0...100.0
    public static let maxCachedRange = 1...1000
}

/// The sampling parameters a model uses when a job leaves them out.
public struct SamplingDefaults: Sendable, Codable, Equatable {
    /// Sampler.
    public var sampler: Sampler
    /// Sampling steps.
    public var steps: Int
    /// Classifier-free guidance scale (1.0: no guidance).
    public var guidance: Double
    /// Skip-Cache settings; nil: cache off.
    public var cache: SkipCacheSettings?
    /// Frames per second of the MP4.
    public var fps: Int
    /// Seed when the job gives none.
    public var seed: Int
    /// Negative prompt (text-to-video).
    public var negativePrompt: String

    /// Creates defaults.
    public init(
        sampler: Sampler, steps: Int, guidance: Double, cache: SkipCacheSettings?, fps: Int, seed: Int,
        negativePrompt: String = ""
    ) {
        self.sampler = sampler
        self.steps = steps
        self.guidance = guidance
        self.cache = cache
        self.fps = fps
        self.seed = seed
        self.negativePrompt = negativePrompt
    }
}

/// Allowed values shared by job and config validation.
public enum JobLimits {
    /// Seeds: 0...2^63-1 (non-negative Int64; the daemon defines its own RNG, seeded with this value).
    public static let seedRange = 0...Int.max
    /// Frames per second.
    public static let fpsRange = 1...120
    /// Guidance scale (1.0 disables classifier-free guidance; below 1 is rejected).
    public static let guidanceRange = 1.0...100.0
    /// Priority (higher runs first).
    public static let priorityRange = -1000...1000
    /// Sampling steps can never exceed the 1000 training timesteps.
    public static let trainingTimesteps = 1000
}
