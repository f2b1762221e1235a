// `bench forward`: one full-size Latte-XL/2-skip forward (random weights, 16x32x32 latents) at
// batch 1 and at the CFG batch 2, and one Skip-Cache cached step at batch 2, per engine.
// FLOPs are counted from the configuration (LatteConfig.forwardFLOPs).

import Foundation
import Latte
import TensorCore

public struct ForwardBenchmark {
    public var config: LatteConfig
    public var benchmark: Benchmark
    /// Block chunk sizes (tokens) to measure, interleaved; each gives its own rows (noted as such
    /// when there are several).
    public var chunkTokens = [BlockWorkspace.defaultChunkTokens]

    public init(config: LatteConfig = .xl2(numClasses: 101), benchmark: Benchmark) {
        self.config = config
        self.benchmark = benchmark
    }

    /// Measures the three forwards with `engine`; `report` sees each result as it is measured.
    public func run(engine: GEMMEngine, report: (BenchmarkResult) -> Void) throws -> [BenchmarkResult] {
        let info = (engine as? GEMMEngineDescribing)?.info
        let model = try LatteTransformer.random(config: config, seed: 1, engine: engine)
        let c = config
        let shapeText = "\(c.numFrames)x\(c.latentSize)x\(c.latentSize)"
        var results: [BenchmarkResult] = []
        func record(_ name: String, batch: Int, mode: StepMode, timing: Timing, chunk: Int? = nil) {
            var r = BenchmarkResult(
                name: name, backend: engine.backend.rawValue, precision: engine.precision.rawValue,
                shape: String(
                    format: "B%d %@ %.2f TFLOP", batch, shapeText, c.forwardFLOPs(batch: batch, mode: mode) / 1e12),
                timing: timing, flops: c.forwardFLOPs(batch: batch, mode: mode),
                threads: info?.threads ?? Parallel.threadCount, library: info?.library,
                openblasCore: engine.backend == .openblas ? try? OpenBLASLibrary.shared.get().coreName : nil,
                notes: info?.notes)
            if let chunk { r.notes = (r.notes ?? []) + ["blocks in chunks of \(chunk) tokens"] }
            results.append(r)
            report(r)
        }
        let t = 500
        let label = c.numClasses.map { _ in 0 }
        for batch in [1, 2] {
            let x = RandomNormal.tensor(
                shape: [batch, c.numFrames, c.inChannels, c.latentSize, c.latentSize], seed: 2, stream: 0)
            let labels: [Int]? = label.map { l in batch == 1 ? [l] : [l, c.nullClass ?? l] }
            var noCache: SkipCacheState? = nil
            let timings = benchmark.measureInterleaved(count: chunkTokens.count) { i in
                _ = model.forward(
                    x, timesteps: Array(repeating: t, count: batch), labels: labels, cache: &noCache,
                    chunkTokens: chunkTokens[i])
            }
            for (chunk, timing) in zip(chunkTokens, timings) {
                record(
                    batch == 1 ? "forward" : "forward_cfg", batch: batch, mode: .full, timing: timing,
                    chunk: chunkTokens.count > 1 ? chunk : nil)
            }
        }
        // A cached step at the CFG batch: fill the cache with one full call, then time cached calls.
        let x = RandomNormal.tensor(
            shape: [2, c.numFrames, c.inChannels, c.latentSize, c.latentSize], seed: 3, stream: 0)
        let labels: [Int]? = label.map { l in [l, c.nullClass ?? l] }
        let schedule = SkipCacheSchedule.classToVideo(interval: 2)
        var state: SkipCacheState? = SkipCacheState(schedule: schedule)
        _ = model.forward(x, timesteps: [t, t], labels: labels, cache: &state)
        let stream = state?.cachedStream
        let timing = benchmark.measure {
            var cached: SkipCacheState? = SkipCacheState(schedule: schedule, counter: 1, cachedStream: stream)
            _ = model.forward(x, timesteps: [t, t], labels: labels, cache: &cached)
        }
        record("cached_step_cfg", batch: 2, mode: .cached, timing: timing)
        return results
    }
}
