// Loaded models kept between jobs, so an overnight queue pays the load cost once. Keyed by the
// model's registry entry (a changed entry after a config reload loads anew) and the compute
// settings.

import Foundation
import Jobs
import Latte
import TensorCore
import VAE

/// The class-to-video pair a render needs.
public struct ClassToVideoModel: @unchecked Sendable {
    public let transformer: LatteTransformer
    public let vae: VAEDecoder
}

public final class ModelCache: @unchecked Sendable {
    private let lock = NSLock()
    private var classToVideo: [String: (entry: ModelEntry, model: ClassToVideoModel)] = [:]
    private var engines: [String: GEMMEngine] = [:]

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
        let key = "\(entry.name)/\(compute.backend.rawValue)/\(compute.precision.rawValue)"
        lock.lock()
        if let hit = classToVideo[key], hit.entry == entry {
            lock.unlock()
            return hit.model
        }
        lock.unlock()
        let engine = try engine(for: compute)
        let transformer: LatteTransformer
        do {
            transformer = try LatteTransformer.load(checkpoint: entry.checkpoint, numHeads: entry.heads, engine: engine)
        } catch {
            throw RenderError.model(name: entry.name, reason: "\(entry.checkpoint.path): \(error)")
        }
        let vae: VAEDecoder
        do { vae = try VAEDecoder(directory: entry.vae, engine: engine) } catch {
            throw RenderError.model(name: entry.name, reason: "\(entry.vae.path): \(error)")
        }
        let model = ClassToVideoModel(transformer: transformer, vae: vae)
        lock.lock()
        classToVideo[key] = (entry, model)
        lock.unlock()
        return model
    }

    /// Drops every loaded model (e.g. after a config reload that removed them).
    public func removeAll() {
        lock.lock()
        classToVideo.removeAll()
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
