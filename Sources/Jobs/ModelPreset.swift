// ModelPreset: the official per-dataset sample configs (class-to-video spec §9, text-to-video spec §5-6)
// that give a model entry its defaults. Values are those of the Skip-Cache sample yaml of each dataset
// (the Skip-DiT variant the daemon runs), with the cache on at the released setting.
//
// | preset | task | classes | sampler | steps | guidance | cache (N-start-stop) | fps | seed |
// |--------|------|---------|---------|-------|----------|----------------------|-----|------|
// | ucf101 | c2v  | 101     | ddim    | 50    | 7.0      | N2-900-50            | 8   | 2    |
// | ffs    | c2v  | 0       | ddpm    | 250   | 1.0      | N2-900-50            | 8   | 1    |
// | sky    | c2v  | 0       | ddpm    | 250   | 1.0      | N2-900-50            | 8   | 0    |
// | taichi | c2v  | 0       | ddpm    | 250   | 1.0      | N2-900-50            | 8   | 0    |
// | t2v    | t2v  | –       | ddim    | 50    | 7.5      | N2-700-50            | 8   | 0    |
// | demo   | c2v  | entry   | ddim    | 12    | 7.0      | N2-900-50            | 8   | 0    |
//
// Class-to-video Skip-Cache thresholds are fixed in the official code (start_deepcache_at = 900,
// close_deepcache_at = 50); only N varies (`--deepcache N`, released default 2). The official t2v
// sample script has no fixed seed (the daemon uses 0). `demo` is for the shipped demo model
// (Models/demo) and the tiny fixture models: a short DDIM run; its class count comes from the entry
// (`num_classes`/`classes`, 0 = unconditional).

/// A dataset whose official sample config supplies a model's defaults.
public enum ModelPreset: String, Sendable, Codable, CaseIterable {
    case ucf101, ffs, sky, taichi, t2v, demo

    /// The task the preset's model performs.
    public var task: RenderTask { self == .t2v ? .textToVideo : .classToVideo }

    /// The class count of the dataset (0: unconditional), nil when the entry must say (demo, t2v).
    public var numClasses: Int? {
        switch self {
        case .ucf101: return 101
        case .ffs, .sky, .taichi: return 0
        case .t2v, .demo: return nil
        }
    }

    /// The official sampling defaults.
    public var defaults: SamplingDefaults {
        let c2vCache = SkipCacheSettings(interval: 2, start: 900, stop: 50)
        switch self {
        case .ucf101:
            return SamplingDefaults(sampler: .ddim, steps: 50, guidance: 7.0, cache: c2vCache, fps: 8, seed: 2)
        case .ffs:
            return SamplingDefaults(sampler: .ddpm, steps: 250, guidance: 1.0, cache: c2vCache, fps: 8, seed: 1)
        case .sky, .taichi:
            return SamplingDefaults(sampler: .ddpm, steps: 250, guidance: 1.0, cache: c2vCache, fps: 8, seed: 0)
        case .t2v:
            return SamplingDefaults(
                sampler: .ddim, steps: 50, guidance: 7.5, cache: SkipCacheSettings(interval: 2, start: 700, stop: 50),
                fps: 8, seed: 0, negativePrompt: "")
        case .demo:
            return SamplingDefaults(sampler: .ddim, steps: 12, guidance: 7.0, cache: c2vCache, fps: 8, seed: 0)
        }
    }
}
