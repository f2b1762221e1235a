// SamplingFields: the sampling keys a job and a model entry's `defaults:` share (sampler, steps,
// guidance, cache, fps), read with static range checks; limits that depend on the config are checked
// when a plan is resolved.

/// A job's (or a `defaults:` block's) Skip-Cache choice before the model's defaults are applied.
public enum CacheChoice: Sendable, Codable, Equatable {
    /// `cache: off` (also `false`, `no`, `none`).
    case off
    /// Cache on; missing fields come from the model's defaults.
    case on(interval: Int?, start: Int?, stop: Int?)
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

    /// `off` | `on` | `N2-700-50` | an interval | `{interval, start, stop}`.
    static func readCache(_ node: YAMLNode, reader: NodeReader) -> CacheChoice? {
        let hint =
            "write `cache: off`, `cache: { interval: 2 }`, `cache: { interval: 2, start: 900, stop: 50 }` or `cache: N2-700-50`"
        switch node.content {
        case .mapping:
            guard let entries = reader.mapping(node, known: ["interval", "start", "stop"], what: "'cache'") else {
                return nil
            }
            let interval = entries["interval"].flatMap {
                reader.int(
                    $0.value, key: "cache.interval", in: SkipCacheSettings.intervalRange,
                    hint: "a full step every `interval` steps; 2 is the released setting")
            }
            let start = entries["start"].flatMap {
                reader.int(
                    $0.value, key: "cache.start", in: SkipCacheSettings.timestepRange,
                    hint: "an original timestep: steps with t >= start are always full")
            }
            let stop = entries["stop"].flatMap {
                reader.int(
                    $0.value, key: "cache.stop", in: SkipCacheSettings.timestepRange,
                    hint: "an original timestep below which caching ends")
            }
            return .on(interval: interval, start: start, stop: stop)
        case .sequence:
            reader.sink.error(node.mark, "'cache' must be a mapping or `off`, not a sequence", hint: hint)
            return nil
        case .scalar(let text, _):
            switch node.resolved {
            case .bool(let on)?: return on ? .on(interval: nil, start: nil, stop: nil) : .off
            case .int?:
                return reader.int(node, key: "cache", in: SkipCacheSettings.intervalRange).map {
                    .on(interval: $0, start: nil, stop: nil)
                }
            default: break
            }
            switch text.lowercased() {
            case "off", "no", "none": return .off
            case "on", "yes": return .on(interval: nil, start: nil, stop: nil)
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
                return .on(interval: flag.interval, start: flag.start, stop: flag.stop)
            }
            reader.sink.error(
                node.mark,
                "'cache' must be `off`, a mapping or N<interval>-<start>-<stop>, not \(node.kindDescription)",
                hint: hint)
            return nil
        }
    }
}
