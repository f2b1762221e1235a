// `bench attention`: GFLOP/s of the attention cores of a render at their released shapes, on each
// kernel (fused; two engine GEMMs per tile), interleaved, against the best weight-GEMM GFLOP/s
// of the same engine measured first in the same run (`gemm_peak`, the `of_peak` yardstick).

import Foundation
import TensorCore

/// One attention problem: `rows` independent sequences of `queries` queries over `keys` keys.
public struct AttentionShape: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var rows: Int, queries: Int, keys: Int, heads: Int, headDim: Int
    /// Cross-attention over a padded caption: the keys past `validKeys` are masked out.
    public var validKeys: Int?

    public init(name: String, rows: Int, queries: Int, keys: Int, heads: Int, headDim: Int, validKeys: Int? = nil) {
        precondition(
            rows > 0 && queries > 0 && keys > 0 && heads > 0 && headDim > 0, "attention sizes must be positive")
        self.name = name
        self.rows = rows
        self.queries = queries
        self.keys = keys
        self.heads = heads
        self.headDim = headDim
        self.validKeys = validKeys
    }

    /// 4·rows·heads·queries·keys·headDim: Q·Kᵀ and P·V, 2 per multiply-add (masked keys included).
    public var flops: Double { 4 * Double(rows * heads) * Double(queries) * Double(keys) * Double(headDim) }

    public var description: String { "\(rows)x\(queries)x\(keys) \(heads)x\(headDim)" }

    /// The released models' attention at 16 frames: Latte-XL/2 class-to-video spatial (CFG batch 2,
    /// 32x32 latents: 256 tokens a frame), text-to-video spatial and cross-attention (CFG batch 2,
    /// 64x64 latents: 1,024 tokens a frame; 120 caption tokens, 20 of them real), T5-XXL's encoder.
    public static let released = [
        AttentionShape(name: "c2v_spatial", rows: 32, queries: 256, keys: 256, heads: 16, headDim: 72),
        AttentionShape(name: "t2v_spatial", rows: 32, queries: 1024, keys: 1024, heads: 16, headDim: 72),
        AttentionShape(
            name: "t2v_cross", rows: 32, queries: 1024, keys: 120, heads: 16, headDim: 72, validKeys: 20),
        AttentionShape(name: "t5_self", rows: 1, queries: 120, keys: 120, heads: 64, headDim: 64, validKeys: 20),
    ]
}

/// Measures the attention kernels on one engine.
public struct AttentionBenchmark {
    public var shapes = AttentionShape.released
    /// The yardstick's weight-GEMM shapes (the best of them is `gemm_peak`).
    public var gemmShapes = GEMMShape.transformer
    public var kernels = AttentionKernel.allCases
    public var backend: Backend = .auto
    public var precision: Precision = .fp32
    public var benchmark = Benchmark(warmup: 1, runs: 5)
    /// nil = all cores.
    public var threads: Int?

    public init() {}

    /// The yardstick row, then one row per shape and kernel; `report` sees each as measured.
    public func run(report: (BenchmarkResult) -> Void = { _ in }) throws(BenchmarkError) -> [BenchmarkResult] {
        let engine: GEMMEngine
        do {
            engine = try makeGEMMEngine(ComputeOptions(backend: backend, precision: precision, threads: threads))
        } catch {
            throw .engine("\(error)")
        }
        let info = (engine as? GEMMEngineDescribing)?.info
        let peak = try GEMMBenchmark.peak(
            engine: engine, shapes: gemmShapes, threads: threads, benchmark: Benchmark(warmup: 1, runs: 3))
        let peakGflops = peak.gflops ?? .nan
        report(peak)
        var results = [peak]
        var seed: UInt64 = 2024
        for shape in shapes {
            let d = shape.heads * shape.headDim
            // Packed [q | k | v] for self-attention, as the transformer passes it; separate q and a
            // shared (1, keys, 2D) [k | v] for cross-attention.
            let cross = shape.queries != shape.keys || shape.validKeys != nil
            let qkv = Tensor(
                shape: [shape.rows, shape.queries, 3 * d],
                values: randomValues(shape.rows * shape.queries * 3 * d, &seed))
            let mask = Tensor(
                shape: [shape.rows, shape.keys],
                values: (0..<(shape.rows * shape.keys)).map {
                    Float($0 % shape.keys < (shape.validKeys ?? shape.keys) ? 1 : 0)
                })
            var out = Tensor(zeros: [shape.rows, shape.queries, d])
            let op = out.mutablePointer()
            let scale = 1 / Float(shape.headDim).squareRoot()
            let timings = withExtendedLifetime((qkv, mask, out)) {
                let p = qkv.pointer, rowStride = 3 * d * shape.queries
                let q = AttentionOperand(p, tokenStride: 3 * d, rowStride: rowStride)
                let k = AttentionOperand(p + d, tokenStride: 3 * d, rowStride: cross ? 0 : rowStride)
                let v = AttentionOperand(p + 2 * d, tokenStride: 3 * d, rowStride: cross ? 0 : rowStride)
                return benchmark.measureInterleaved(count: kernels.count) { i in
                    Attention.forward(
                        q: q, k: k, v: v, rows: shape.rows, queries: shape.queries, keys: shape.keys,
                        heads: shape.heads, headDim: shape.headDim, scale: scale,
                        keyMask: shape.validKeys == nil ? nil : mask.pointer, into: op, engine: engine,
                        kernel: kernels[i])
                }
            }
            for (kernel, timing) in zip(kernels, timings) {
                var r = BenchmarkResult(
                    name: "attention_\(shape.name)", backend: engine.backend.rawValue,
                    precision: engine.precision.rawValue, shape: shape.description, timing: timing,
                    flops: shape.flops, threads: info?.threads ?? Parallel.threadCount, library: info?.library,
                    implementation: kernel.rawValue, notes: (info?.notes).flatMap { $0.isEmpty ? nil : $0 })
                r.ofPeak = r.gflops.map { $0 / peakGflops }
                results.append(r)
                report(r)
            }
        }
        return results
    }
}
