// The VAE mid-block attention (diffusers `Attention` with one head of dim C, built from the
// deprecated attention block): GroupNorm -> q, k, v over the H·W tokens of one frame -> softmax
// (q kᵀ / √C) v -> to_out.0 -> + residual. Tokens are t = y·W + x. The attention itself is
// TensorCore's `Attention.forward` on the packed [q | k | v] tokens (scores in bounded blocks).

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

    /// Weights (C, C) and biases (C) of to_q, to_k, to_v and to_out.0.
    init(
        norm: GroupNorm, q: (Tensor, Tensor), k: (Tensor, Tensor), v: (Tensor, Tensor), out: (Tensor, Tensor),
        engine: GEMMEngine
    ) {
        let c = norm.channels
        for (w, b) in [q, k, v, out] {
            precondition(w.shape == [c, c] && b.shape == [c], "attention weight \(w.shape)")
        }
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
        defer { [tokens, qkvBuf].forEach(x.pool.give) }
        // Normalised tokens (T, C): the interior rows, packed.
        let normed = x.make(height: x.height, width: x.width, channels: c)
        GroupNorm.apply(k, x, into: normed, silu: false)
        for y in 0..<x.height { (tokens.pointer + y * w * c).update(from: normed.pixel(y, 0), count: w * c) }
        withExtendedLifetime((qkvBias, outBias)) {
            engine.linear(tokens.pointer, rows: t, weight: qkv, bias: qkvBias.pointer, into: qkvBuf.pointer)
            let p = UnsafePointer(qkvBuf.pointer), o = tokens.pointer  // o reuses the token buffer
            Attention.forward(
                q: AttentionOperand(p, tokenStride: 3 * c, rowStride: 0),
                k: AttentionOperand(p + c, tokenStride: 3 * c, rowStride: 0),
                v: AttentionOperand(p + 2 * c, tokenStride: 3 * c, rowStride: 0),
                rows: 1, queries: t, keys: t, heads: 1, headDim: c, scale: scale, into: o, engine: engine)
            // to_out.0, then the residual add into x's interior.
            let projected = qkvBuf.pointer
            engine.linear(o, rows: t, weight: out, bias: outBias.pointer, into: projected)
            Parallel.forRange(x.height) { rows in
                for y in rows { ChannelKernels.add(projected + y * w * c, into: x.pixel(y, 0), count: w * c) }
            }
        }
    }
}
