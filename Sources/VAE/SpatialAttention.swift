// The VAE mid-block attention (diffusers `Attention` with one head of dim C, built from the
// deprecated attention block): GroupNorm -> q, k, v over the H·W tokens of one frame -> softmax
// (q kᵀ / √C) v -> to_out.0 -> + residual. Tokens are t = y·W + x. Scores are computed in bands
// of query rows, so the score matrix never exceeds `queryBand` x T floats.

import Foundation
import TensorCore

/// Single-head spatial self-attention with a residual connection, per frame.
final class SpatialAttention {
    let channels: Int
    let norm: GroupNorm
    /// [to_q; to_k; to_v] stacked: (3C, C), so one GEMM yields q | k | v per token.
    private let qkv: PreparedWeight
    private let qkvBias: Tensor
    private let out: PreparedWeight
    private let outBias: Tensor
    private let engine: GEMMEngine

    /// Query rows per score band.
    static let queryBand = 1024

    /// Weights (C, C) and biases (C) of to_q, to_k, to_v and to_out.0.
    init(
        norm: GroupNorm, q: (Tensor, Tensor), k: (Tensor, Tensor), v: (Tensor, Tensor), out: (Tensor, Tensor),
        engine: GEMMEngine
    ) {
        let c = norm.channels
        for (w, b) in [q, k, v, out] { precondition(w.shape == [c, c] && b.shape == [c], "attention weight \(w.shape)") }
        channels = c
        self.norm = norm
        self.engine = engine
        qkv = engine.prepare(weight: Tensor(shape: [3 * c, c], values: q.0.scalars + k.0.scalars + v.0.scalars))
        qkvBias = Tensor(shape: [3 * c], values: q.1.scalars + k.1.scalars + v.1.scalars)
        self.out = engine.prepare(weight: out.0)
        outBias = out.1
    }

    /// x += attention(GroupNorm(x)), in place.
    func apply(_ x: FeatureMap) {
        precondition(x.channels == channels, "attention channels")
        let c = channels, w = x.width, t = x.height * x.width
        let scale = 1 / Float(c).squareRoot()
        let k = norm.coefficients(over: [x])
        let tokens = x.pool.take(count: t * c), qkvBuf = x.pool.take(count: t * 3 * c)
        let band = min(t, Self.queryBand)
        let scores = x.pool.take(count: band * t)
        defer { [tokens, qkvBuf, scores].forEach(x.pool.give) }
        // Normalised tokens (T, C): the interior rows, packed.
        let normed = x.make(height: x.height, width: x.width, channels: c)
        GroupNorm.apply(k, x, into: normed, silu: false)
        for y in 0..<x.height { (tokens.pointer + y * w * c).update(from: normed.pixel(y, 0), count: w * c) }
        withExtendedLifetime((qkvBias, outBias)) {
            engine.linear(tokens.pointer, rows: t, weight: qkv, bias: qkvBias.pointer, into: qkvBuf.pointer)
            let q = qkvBuf.pointer, kk = qkvBuf.pointer + c, v = qkvBuf.pointer + 2 * c
            let o = tokens.pointer  // reuse: attention output (T, C)
            var t0 = 0
            while t0 < t {
                let m = min(band, t - t0)
                engine.gemm(
                    transA: false, transB: true, m: m, n: t, k: c, alpha: scale, a: q + t0 * 3 * c, lda: 3 * c,
                    b: kk, ldb: 3 * c, beta: 0, c: scores.pointer, ldc: t)
                Self.softmaxRows(scores.pointer, rows: m, cols: t)
                engine.gemm(
                    transA: false, transB: false, m: m, n: c, k: t, alpha: 1, a: scores.pointer, lda: t, b: v,
                    ldb: 3 * c, beta: 0, c: o + t0 * c, ldc: c)
                t0 += m
            }
            // to_out.0, then the residual add into x's interior.
            let projected = qkvBuf.pointer
            engine.linear(o, rows: t, weight: out, bias: outBias.pointer, into: projected)
            Parallel.forRange(x.height) { rows in
                for y in rows { VectorMath.add(projected + y * w * c, into: x.pixel(y, 0), count: w * c) }
            }
        }
    }

    /// Row-wise softmax in place (max subtracted first).
    static func softmaxRows(_ s: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        Parallel.forRange(rows, grain: max(1, 4096 / max(cols, 1))) { range in
            for r in range {
                let row = s + r * cols
                var mx = -Float.infinity
                for j in 0..<cols { mx = max(mx, row[j]) }
                var j = 0
                var sum = 0.0
                let raw = UnsafeMutableRawPointer(row)
                let mv = SIMD16<Float>(repeating: mx)
                while j + 16 <= cols {
                    let e = VectorMath.exp(raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self) - mv)
                    raw.storeBytes(of: e, toByteOffset: j * 4, as: SIMD16<Float>.self)
                    sum += Double(e.sum())
                    j += 16
                }
                while j < cols {
                    row[j] = Foundation.exp(row[j] - mx)
                    sum += Double(row[j])
                    j += 1
                }
                let inv = Float(1 / sum)
                for j in 0..<cols { row[j] *= inv }
            }
        }
    }
}
