// SamplingFields: the sampling keys a job and a model entry's `defaults:` share (sampler, steps,
// guidance, cache, fps), read with static range checks; limits that depend on the config are checked
// when a plan is resolved.

/// A job's (or a `defaults:` block's) Skip-Cache choice before the model's defaults are applied.
public enum CacheChoice: Sendable, Codable, Equatable {
    /// `cache: off` (also `false`, `no`, `none`).
    case off
    /// Cache on; missing fields come from the model's defaults.
    case on(CacheOverrides)

    /// `cache: on` with every field from the defaults.
    static let onWithDefaults = CacheChoice.on(CacheOverrides())
}

/// The Skip-Cache fields a job or a `defaults:` block gives (nil: from the model's defaults).
public struct CacheOverrides: Sendable, Codable, Equatable {
    public enum Policy: String, Sendable, Codable, CaseIterable {
        case fixed, adaptive
    }

    /// nil: `interval` means fixed, an adaptive field means adaptive, neither keeps the default's policy.
    public var policy: Policy?
    public var interval: Int?
    public var start: Int?
    public var stop: Int?
    public var threshold: Double?
    public var targetPSNR: Double?
    public var maxCached: Int?

    public init(
        policy: Policy? = nil, interval: Int? = nil, start: Int? = nil, stop: Int? = nil, threshold: Double? = nil,
        targetPSNR: Double? = nil, maxCached: Int? = nil
    ) {
        self.policy = policy
        self.interval = interval
        self.start = start
        self.stop = stop
        self.threshold = threshold
        self.targetPSNR = targetPSNR
        self.maxCached = maxCached
    }

    /// Whether a field of the adaptive policy is given.
    var namesAdaptiveField: Bool { threshold != nil || targetPSNR != nil || maxCached != nil }
}

/// Sampling keys given explicitly (nil: use the model's default).
public struct SamplingOverrides: Sendable, Codable, Equatable {
    public var sampler: Sampler?
    public var steps: Int?
    public var guidance: Double?
    public var cache: CacheChoice?
    public var fps: Int?

    /// No overrides.
    public init(
        sampler: Sampler? = nil, steps: Int? = nil, guidance: Double? = nil, cache: CacheChoice? = nil, fps: Int? = nil
    ) {
        self.sampler = sampler
        self.steps = steps
        self.guidance = guidance
        self.cache = cache
        self.fps = fps
    }

    static let keys = ["sampler", "steps", "guidance", "cache", "fps"]

    /// Reads the sampling keys present in `entries`.
    static func read(_ entries: [String: YAMLPair], reader: NodeReader) -> SamplingOverrides {
        var result = SamplingOverrides()
        if let node = entries["sampler"]?.value {
            result.sampler = reader.choice(node, key: "sampler", Sampler.allCases.map(\.rawValue)).flatMap(Sampler.init)
        }
        if let node = entries["steps"]?.value {
            result.steps = reader.int(
                node, key: "steps", in: 1...JobLimits.trainingTimesteps,
                hint: "steps count sampler iterations over the \(JobLimits.trainingTimesteps) training timesteps")
        }
        if let node = entries["guidance"]?.value {
            result.guidance = reader.double(
                node, key: "guidance", in: JobLimits.guidanceRange,
                hint: "1.0 disables classifier-free guidance; the UCF101 default is 7.0")
        }
        if let node = entries["cache"]?.value { result.cache = readCache(node, reader: reader) }
        if let node = entries["fps"]?.value { result.fps = reader.int(node, key: "fps", in: JobLimits.fpsRange) }
        return result
    }

    /// `off` | `on` | `N2-700-50` | an interval | `{policy, interval, start, stop, threshold, target_psnr, max_cached}`.
    static func readCache(_ node: YAMLNode, reader: NodeReader) -> CacheChoice? {
        let hint =
            "write `cache: off`, `cache: { interval: 2 }`, `cache: { interval: 2, start: 900, stop: 50 }`, `cache: N2-700-50` or `cache: { policy: adaptive, threshold: 4 }`"
        switch node.content {
        case .mapping:
            let known = ["policy", "interval", "start", "stop", "threshold", "target_psnr", "max_cached"]
            guard let entries = reader.mapping(node, known: known, what: "'cache'") else { return nil }
            let before = reader.sink.items.count
            var o = CacheOverrides()
            o.policy = entries["policy"].flatMap {
                reader.choice($0.value, key: "cache.policy", CacheOverrides.Policy.allCases.map(\.rawValue))
                    .flatMap(CacheOverrides.Policy.init)
            }
            o.interval = entries["interval"].flatMap {
                reader.int(
                    $0.value, key: "cache.interval", in: SkipCacheSettings.intervalRange,
                    hint: "a full step every `interval` steps; 2 is the released setting")
            }
            o.start = entries["start"].flatMap {
                reader.int(
                    $0.value, key: "cache.start", in: SkipCacheSettings.timestepRange,
                    hint: "an original timestep: steps with t >= start are always full")
            }
            o.stop = entries["stop"].flatMap {
                reader.int(
                    $0.value, key: "cache.stop", in: SkipCacheSettings.timestepRange,
                    hint: "an original timestep below which caching ends")
            }
            o.threshold = entries["threshold"].flatMap {
                reader.double(
                    $0.value, key: "cache.threshold", in: AdaptiveCacheSettings.thresholdRange,
                    hint: "the estimated error above which a step runs full, e.g. 4 (README: Adaptive Skip-Cache)")
            }
            o.targetPSNR = entries["target_psnr"].flatMap {
                reader.double(
                    $0.value, key: "cache.target_psnr", in: AdaptiveCacheSettings.targetPSNRRange,
                    hint: "the mean PSNR in dB against the uncached video, e.g. 30")
            }
            o.maxCached = entries["max_cached"].flatMap {
                reader.int(
                    $0.value, key: "cache.max_cached", in: AdaptiveCacheSettings.maxCachedRange,
                    hint: "at most this many cached steps in a row")
            }
            guard reader.sink.items.count == before else { return nil }
            let adaptiveKeys = ["threshold", "target_psnr", "max_cached"].filter { entries[$0] != nil }
            if o.policy == .fixed, let key = adaptiveKeys.first {
                reader.sink.error(
                    entries[key]?.keyMark, "'cache.\(key)' belongs to the adaptive policy, not `policy: fixed`",
                    hint: "remove it, or write `policy: adaptive`")
                return nil
            }
            if o.policy == .adaptive || (o.policy == nil && !adaptiveKeys.isEmpty), entries["interval"] != nil {
                reader.sink.error(
                    entries["interval"]?.keyMark, "'cache.interval' belongs to the fixed policy, not the adaptive one",
                    hint: "remove it, or write `policy: fixed`")
                return nil
            }
            if let t = entries["threshold"], entries["target_psnr"] != nil {
                reader.sink.error(
                    t.keyMark, "give 'cache.threshold' or 'cache.target_psnr', not both",
                    hint: "target_psnr picks the threshold from the model's calibration")
                return nil
            }
            return .on(o)
        case .sequence:
            reader.sink.error(node.mark, "'cache' must be a mapping or `off`, not a sequence", hint: hint)
            return nil
        case .scalar(let text, _):
            switch node.resolved {
            case .bool(let on)?: return on ? .onWithDefaults : .off
            case .int?:
                return reader.int(node, key: "cache", in: SkipCacheSettings.intervalRange).map {
                    .on(CacheOverrides(interval: $0))
                }
            default: break
            }
            switch text.lowercased() {
            case "off", "no", "none": return .off
            case "on", "yes": return .onWithDefaults
            default: break
            }
            if let flag = SkipCacheSettings(flag: text) {
                let r = SkipCacheSettings.timestepRange
                guard SkipCacheSettings.intervalRange.contains(flag.interval), r.contains(flag.start),
                    r.contains(flag.stop)
                else {
                    reader.sink.error(
                        node.mark, "'cache' \(text) is out of range", hint: "interval 1...1000, start and stop 0...1000"
                    )
                    return nil
                }
                return .on(CacheOverrides(interval: flag.interval, start: flag.start, stop: flag.stop))
            }
            reader.sink.error(
                node.mark,
                "'cache' must be `off`, a mapping or N<interval>-<start>-<stop>, not \(node.kindDescription)",
                hint: hint)
            return nil
        }
    }
}
