// `bench forward --task t2v`: one full-size Latte T2V forward (random weights, 16x64x64 latents,
// the CFG batch 2, 120 caption tokens) and one Skip-Cache cached step, plus one T5-XXL encode of a
// 120-token prompt (synthetic weights at full size; every block shares one random block, so the
// cost is exact and the memory is one block's).

import Foundation
import Latte
import TensorCore
import TextEncoder

public struct TextToVideoForwardBenchmark {
    public var config: LatteT2VConfig
    public var frames: Int
    public var captionTokens: Int
    public var benchmark: Benchmark

    public init(config: LatteT2VConfig = .released, frames: Int = 16, captionTokens: Int = 120, benchmark: Benchmark) {
        self.config = config
        self.frames = frames
        self.captionTokens = captionTokens
        self.benchmark = benchmark
    }

    public func run(engine: GEMMEngine, report: (BenchmarkResult) -> Void) throws -> [BenchmarkResult] {
        let info = (engine as? GEMMEngineDescribing)?.info
        var results: [BenchmarkResult] = []
        func record(_ name: String, shape: String, flops: Double, timing: Timing) {
            let r = BenchmarkResult(
                name: name, backend: engine.backend.rawValue, precision: engine.precision.rawValue,
                shape: String(format: "%@ %.2f TFLOP", shape, flops / 1e12),
                timing: timing, flops: flops, threads: info?.threads ?? Parallel.threadCount, library: info?.library,
                notes: info?.notes)
            results.append(r)
            report(r)
        }
        // T5-XXL first, then released before the transformer is built (the daemon's memory plan).
        do {
            let t5 = try T5Encoder.synthetic(config: .xxl, engine: engine)
            let ids = [Array(0..<captionTokens)], masks = [Array(repeating: 1, count: captionTokens)]
            let timing = benchmark.measure { _ = t5.encode(ids: ids, masks: masks) }
            record(
                "t5_xxl_encode", shape: "1x\(captionTokens) tokens",
                flops: T5Config.xxl.flops(batch: 1, tokens: captionTokens),
                timing: timing)
        }
        let model = try LatteT2VTransformer.random(config: config, seed: 1, engine: engine)
        let c = config
        let shape = "B2 \(frames)x\(c.sampleSize)x\(c.sampleSize) L\(captionTokens)"
        let x = RandomNormal.tensor(shape: [2, c.inChannels, frames, c.sampleSize, c.sampleSize], seed: 2, stream: 0)
        let captions = RandomNormal.tensor(shape: [2, captionTokens, c.captionChannels], seed: 2, stream: 1)
        let t = 500
        // The full forward is a Skip-Cache render's full step: it also keeps the stream the cached
        // step then reuses (a copy of one activation; the same cost as a forward without cache).
        let schedule = SkipCacheSchedule.textToVideo(interval: 2)
        var stream: Tensor?
        let full = benchmark.measure {
            var s: SkipCacheState? = SkipCacheState(schedule: schedule)
            _ = model.forward(x, timesteps: [t, t], caption: captions, cache: &s)
            stream = s?.cachedStream
        }
        record(
            "t2v_forward_cfg", shape: shape,
            flops: c.forwardFLOPs(batch: 2, frames: frames, captionTokens: captionTokens, mode: .full), timing: full)
        let cached = benchmark.measure {
            var s: SkipCacheState? = SkipCacheState(schedule: schedule, counter: 1, cachedStream: stream)
            _ = model.forward(x, timesteps: [t, t], caption: captions, cache: &s)
        }
        record(
            "t2v_cached_step_cfg", shape: shape,
            flops: c.forwardFLOPs(batch: 2, frames: frames, captionTokens: captionTokens, mode: .cached), timing: cached
        )
        return results
    }
}
