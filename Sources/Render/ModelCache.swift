// Loaded models kept between jobs, so an overnight queue pays the load cost once. Keyed by the
// model's registry entry (a changed entry after a config reload loads anew) and the compute
// settings.

import Diffusion
import Foundation
import Jobs
import Latte
import TensorCore
import TextEncoder
import VAE

/// The class-to-video pair a render needs.
public struct ClassToVideoModel: @unchecked Sendable {
    public let transformer: LatteTransformer
    public let vae: VAEDecoder
}

/// The text-to-video transformer and its VAE (the temporal decoder when the folder has one).
/// The text encoder is not kept: it is loaded for a job's prompts and released before denoising.
struct TextToVideoModel: @unchecked Sendable {
    let transformer: LatteT2VTransformer
    let vae: FrameDecoder
    let scheduler: DDIMSchedulerConfig
}

public final class ModelCache: @unchecked Sendable {
    private let lock = NSLock()
    private var classToVideo: [String: (entry: ModelEntry, model: ClassToVideoModel)] = [:]
    private var textToVideo: [String: (entry: ModelEntry, model: TextToVideoModel)] = [:]
    private var engines: [String: GEMMEngine] = [:]
    /// Text encoders built in memory (`insert`), by model name; files are read for the others.
    private var promptEncoders: [String: (entry: ModelEntry, make: () throws -> any PromptEncoding)] = [:]

    public init() {}

    /// The GEMM engine for compute settings (one per backend/precision).
    public func engine(for compute: ComputeSettings) throws -> GEMMEngine {
        lock.lock()
        defer { lock.unlock() }
        let key = "\(compute.backend.rawValue)/\(compute.precision.rawValue)"
        if let e = engines[key] { return e }
        let e = try ComputeEngineFactory.make(compute)
        engines[key] = e
        return e
    }

    /// The loaded class-to-video model of `entry`.
    public func classToVideo(_ entry: ModelEntry, compute: ComputeSettings) throws -> ClassToVideoModel {
        let key = Self.key(entry, compute)
        return try cached(key, entry, in: \.classToVideo) {
            try loadClassToVideo(entry, engine: try engine(for: compute))
        }
    }

    private func loadClassToVideo(_ entry: ModelEntry, engine: GEMMEngine) throws -> ClassToVideoModel {
        let transformer: LatteTransformer
        do {
            transformer = try LatteTransformer.load(checkpoint: entry.checkpoint, numHeads: entry.heads, engine: engine)
        } catch {
            throw RenderError.model(name: entry.name, reason: "\(entry.checkpoint.path): \(error)")
        }
        let vae: VAEDecoder
        do { vae = try VAEDecoder(contentsOf: entry.vae, engine: engine) } catch {
            throw RenderError.model(name: entry.name, reason: "\(entry.vae.path): \(error)")
        }
        return ClassToVideoModel(transformer: transformer, vae: vae)
    }

    /// The loaded text-to-video model of `entry` (base folder + Latte-skip checkpoint + VAE).
    func textToVideo(_ entry: ModelEntry, compute: ComputeSettings, frames: Int) throws -> TextToVideoModel {
        let key = Self.key(entry, compute, frames: frames)
        return try cached(key, entry, in: \.textToVideo) {
            try loadTextToVideo(entry, engine: try engine(for: compute), frames: frames)
        }
    }

    private func loadTextToVideo(_ entry: ModelEntry, engine: GEMMEngine, frames: Int) throws -> TextToVideoModel {
        guard let base = entry.base else {
            throw RenderError.model(name: entry.name, reason: "a text-to-video model needs `base:` (the Latte folder)")
        }
        let transformer: LatteT2VTransformer
        do {
            transformer = try LatteT2VTransformer.load(
                baseFolder: base, skipCheckpoint: entry.checkpoint, videoLength: frames, engine: engine)
        } catch {
            throw RenderError.model(name: entry.name, reason: "\(base.path) + \(entry.checkpoint.path): \(error)")
        }
        let vae: FrameDecoder
        do {
            // A folder or file with a temporal decoder's config.json; else a 2-D AutoencoderKL (a
            // single file without config.json has its configuration inferred from its shapes).
            if case .file(let configURL) = VAEWeights.configSource(for: entry.vae),
                VAEWeights.describesTemporalDecoder(configURL)
            {
                let config = try TemporalDecoderConfig.load(configURL)
                vae = try TemporalVAEDecoder(config: config, weights: entry.vae, engine: engine)
            } else {
                vae = try VAEDecoder(contentsOf: entry.vae, engine: engine)
            }
        } catch {
            throw RenderError.model(name: entry.name, reason: "\(entry.vae.path): \(error)")
        }
        var scheduler = DDIMSchedulerConfig()
        let schedulerFile = base.appendingPathComponent("scheduler/scheduler_config.json")
        if let data = try? Data(contentsOf: schedulerFile) {
            do { scheduler = try JSONDecoder().decode(DDIMSchedulerConfig.self, from: data) } catch {
                throw RenderError.model(name: entry.name, reason: "\(schedulerFile.path): \(error)")
            }
        }
        return TextToVideoModel(transformer: transformer, vae: vae, scheduler: Self.sampleOverrides(scheduler))
    }

    /// sample_t2v.py overrides these whatever the scheduler file says.
    private static func sampleOverrides(_ config: DDIMSchedulerConfig) -> DDIMSchedulerConfig {
        var scheduler = config
        scheduler.betaStart = 0.0001
        scheduler.betaEnd = 0.02
        scheduler.betaSchedule = "linear"
        return scheduler
    }

    /// Makes models built in memory (random weights at full size, `skipdit bench render`) the loaded
    /// class-to-video model of `entry`: its renders use them and read no files.
    public func insert(
        classToVideo transformer: LatteTransformer, vae: VAEDecoder, for entry: ModelEntry,
        compute: ComputeSettings
    ) {
        let key = Self.key(entry, compute)
        lock.lock()
        classToVideo[key] = (entry, ClassToVideoModel(transformer: transformer, vae: vae))
        lock.unlock()
    }

    /// The text-to-video counterpart of `insert(classToVideo:…)`, at `entry.frames` frames with the
    /// default scheduler; `promptEncoder` builds the text encoder when a job's prompts need
    /// encoding (it is dropped after, as a loaded one is).
    public func insert(
        textToVideo transformer: LatteT2VTransformer, vae: TemporalVAEDecoder,
        promptEncoder: @escaping () throws -> any PromptEncoding, for entry: ModelEntry, compute: ComputeSettings
    ) {
        let key = Self.key(entry, compute, frames: entry.frames)
        lock.lock()
        textToVideo[key] = (
            entry, TextToVideoModel(transformer: transformer, vae: vae, scheduler: Self.sampleOverrides(.init()))
        )
        promptEncoders[entry.name] = (entry, promptEncoder)
        lock.unlock()
    }

    /// The in-memory text encoder's builder for `entry`, if one was inserted for it.
    func promptEncoder(for entry: ModelEntry) -> (() throws -> any PromptEncoding)? {
        lock.lock()
        defer { lock.unlock() }
        guard let hit = promptEncoders[entry.name], hit.entry == entry else { return nil }
        return hit.make
    }

    /// Where a model of `entry` loaded with `compute` (and, for text-to-video, `frames`) is kept: the
    /// loaders and `insert` share it.
    private static func key(_ entry: ModelEntry, _ compute: ComputeSettings, frames: Int? = nil) -> String {
        "\(entry.name)/\(compute.backend.rawValue)/\(compute.precision.rawValue)" + (frames.map { "/\($0)" } ?? "")
    }

    /// The model stored under `key` if it was loaded for this very entry, else `load()`'s, stored.
    /// Loading runs outside the lock (it takes seconds to minutes).
    private func cached<Model>(
        _ key: String, _ entry: ModelEntry,
        in table: ReferenceWritableKeyPath<ModelCache, [String: (entry: ModelEntry, model: Model)]>,
        load: () throws -> Model
    ) throws -> Model {
        lock.lock()
        if let hit = self[keyPath: table][key], hit.entry == entry {
            lock.unlock()
            return hit.model
        }
        lock.unlock()
        let model = try load()
        lock.lock()
        self[keyPath: table][key] = (entry, model)
        lock.unlock()
        return model
    }

    /// Drops every loaded model (e.g. after a config reload that removed them).
    public func removeAll() {
        lock.lock()
        classToVideo.removeAll()
        textToVideo.removeAll()
        promptEncoders.removeAll()
        lock.unlock()
    }
}

/// Jobs' compute settings (the config file's `compute:`) -> a GEMM engine.
enum ComputeEngineFactory {
    static func make(_ compute: ComputeSettings) throws -> GEMMEngine {
        let backend: Backend
        switch compute.backend {
        case .auto: backend = .auto
        case .onednn: backend = .onednn
        case .openblas: backend = .openblas
        }
        let precision: Precision = compute.precision == .bf16 ? .bf16 : .fp32
        return try makeGEMMEngine(
            ComputeOptions(backend: backend, precision: precision, threads: compute.threads > 0 ? compute.threads : nil)
        )
    }
}
