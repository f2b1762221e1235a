// The tensor operations of the Latte transformers, in one place: the layout moves specific to
// Latte (patchify, unpatchify) and thin adapters onto TensorCore's kernels in the shapes the
// models use. Shapes are stated per function; a "token row" holds D features.

import Foundation
import TensorCore

enum LatteKernels {
    /// (B, F, C, H, W) -> (B·F, T, C·p·p) with each patch flattened as (c, a, bb), tokens row-major.
    static func patchify(_ x: Tensor, patch p: Int) -> Tensor {
        let (b, f, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], x.shape[4])
        let g = h / p, gw = w / p
        var out = Tensor(zeros: [b * f, g * gw, c * p * p])
        let o = out.mutablePointer(), xp = x.pointer
        withExtendedLifetime(x) {
            for frame in 0..<(b * f) {
                let src = xp + frame * c * h * w
                for i in 0..<g {
                    for j in 0..<gw {
                        let dst = o + ((frame * g + i) * gw + j) * c * p * p
                        for ch in 0..<c {
                            for a in 0..<p {
                                for bb in 0..<p {
                                    dst[(ch * p + a) * p + bb] = src[(ch * h + i * p + a) * w + j * p + bb]
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// (B·F, rows·cols, p·p·C') -> (B, F, C', rows·p, cols·p); token outputs ordered (a, bb, c),
    /// channel fastest.
    static func unpatchify(
        _ o: Tensor, batch b: Int, frames f: Int, channels c: Int, rows g: Int, cols gw: Int, patch p: Int
    ) -> Tensor {
        let (height, width) = (g * p, gw * p)
        var out = Tensor(zeros: [b, f, c, height, width])
        let dst = out.mutablePointer(), src = o.pointer
        withExtendedLifetime(o) {
            for frame in 0..<(b * f) {
                for i in 0..<g {
                    for j in 0..<gw {
                        let tok = src + ((frame * g + i) * gw + j) * p * p * c
                        for a in 0..<p {
                            for bb in 0..<p {
                                for ch in 0..<c {
                                    dst[((frame * c + ch) * height + i * p + a) * width + j * p + bb] =
                                        tok[(a * p + bb) * c + ch]
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// S (B·F, T, D) -> Tm (B·T, F, D).
    static func spatialToTemporal(_ h: Tensor, batch b: Int, frames f: Int, tokens t: Int) -> Tensor {
        precondition(h.shape == [b * f, t, h.shape[2]], "spatial stream must be (\(b * f), \(t), D), got \(h.shape)")
        return Layout.framesToTokens(h, batch: b)
    }

    /// Tm (B·T, F, D) -> S (B·F, T, D).
    static func temporalToSpatial(_ h: Tensor, batch b: Int, frames f: Int, tokens t: Int) -> Tensor {
        precondition(h.shape == [b * t, f, h.shape[2]], "temporal stream must be (\(b * t), \(f), D), got \(h.shape)")
        return Layout.tokensToFrames(h, batch: b)
    }

    /// h (..., N, D) += table (N, D), broadcast over the leading dimensions.
    static func addRowBroadcast(_ h: inout Tensor, _ table: Tensor) {
        let n = table.count
        precondition(h.count % n == 0, "cannot broadcast \(table.shape) over \(h.shape)")
        let hp = h.mutablePointer()
        withExtendedLifetime(table) { Elementwise.addRowVector(hp, rows: h.count / n, dim: n, table.pointer) }
    }

    /// Tm (B·T, F, D) += temp_embed (F, D) for every row.
    static func addFrameEmbedding(_ h: inout Tensor, _ table: Tensor) { addRowBroadcast(&h, table) }

    static func siluInPlace(_ x: inout Tensor) {
        let p = x.mutablePointer()
        Activation.silu(p, count: x.count, into: p)
    }

    static func addInPlace(_ x: inout Tensor, _ y: Tensor) {
        precondition(x.shape == y.shape, "adding \(y.shape) to \(x.shape)")
        let p = x.mutablePointer()
        withExtendedLifetime(y) { Elementwise.addInPlace(p, y.pointer, count: x.count) }
    }

    /// x += y over `count` elements.
    static func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        Elementwise.addInPlace(x, y, count: count)
    }

    /// Rows `indices` of table (V, D) -> (indices.count, D).
    static func gatherRows(_ table: Tensor, _ indices: [Int]) -> Tensor {
        let d = table.shape[1]
        var out = Tensor(zeros: [indices.count, d])
        let o = out.mutablePointer(), t = table.pointer
        withExtendedLifetime(table) {
            for (r, idx) in indices.enumerated() {
                precondition(idx >= 0 && idx < table.shape[0], "label \(idx) outside 0..<\(table.shape[0])")
                (o + r * d).update(from: t + idx * d, count: d)
            }
        }
        return out
    }

    /// [a, b] along the last dim: (R, Da), (R, Db) -> (R, Da+Db).
    static func concatLastDim(_ a: Tensor, _ b: Tensor) -> Tensor {
        let da = a.shape.last ?? 0, db = b.shape.last ?? 0
        let rows = a.count / max(da, 1)
        precondition(b.count / max(db, 1) == rows, "concat of \(a.shape) and \(b.shape)")
        var out = Tensor(zeros: Array(a.shape.dropLast()) + [da + db])
        let o = out.mutablePointer()
        withExtendedLifetime((a, b)) {
            Layout.concatLastDim(a.pointer, width: da, b.pointer, width: db, rows: rows, into: o)
        }
        return out
    }

    /// Affine LayerNorm over rows of `dim`, in place (biased variance).
    static func layerNormAffineInPlace(_ x: inout Tensor, rows: Int, dim: Int, weight: Tensor, bias: Tensor, eps: Float)
    {
        let p = x.mutablePointer()
        withExtendedLifetime((weight, bias)) {
            Norm.layerNorm(p, rows: rows, dim: dim, weight: weight.pointer, bias: bias.pointer, eps: eps, into: p)
        }
    }

    /// out = LN(x)·(1 + scale) + shift (LN without affine, eps 1e-6) over x (R, N, D); rows of
    /// sample s use shift/scale at s·modulationStride, a sample spanning `rowsPerSample` rows.
    static func layerNormModulate(
        _ x: UnsafePointer<Float>, rows: Int, tokens: Int, dim: Int, shift: UnsafePointer<Float>,
        scale: UnsafePointer<Float>, modulationStride: Int, rowsPerSample: Int, into out: UnsafeMutablePointer<Float>
    ) {
        Norm.layerNormModulated(
            x, rows: rows, tokens: tokens, dim: dim, shift: shift, scale: scale, condRowStride: modulationStride,
            rowsPerCond: rowsPerSample, eps: 1e-6, into: out)
    }

    /// h (tokens, D) += gate (D) ⊙ y, one gate for every token.
    static func gatedResidual(
        _ h: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, tokens: Int, dim: Int, gate: UnsafePointer<Float>
    ) {
        Elementwise.addGated(into: h, y, gate: gate, rows: 1, tokens: tokens, dim: dim, gateRowStride: 0)
    }

    static func geluTanhInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
        Activation.geluTanh(x, count: count, into: x)
    }

    /// Multi-head self-attention on packed qkv (R, N, 3D) -> (R, N, D), scale hd^-0.5.
    static func selfAttention(
        qkv: UnsafePointer<Float>, rows: Int, sequence n: Int, heads: Int, dim d: Int,
        into out: UnsafeMutablePointer<Float>, engine: GEMMEngine
    ) {
        let hd = d / heads
        Attention.forward(
            q: AttentionOperand(qkv, tokenStride: 3 * d, rowStride: n * 3 * d),
            k: AttentionOperand(qkv + d, tokenStride: 3 * d, rowStride: n * 3 * d),
            v: AttentionOperand(qkv + 2 * d, tokenStride: 3 * d, rowStride: n * 3 * d),
            rows: rows, queries: n, keys: n, heads: heads, headDim: hd, scale: 1 / Float(hd).squareRoot(),
            into: out, engine: engine)
    }

    /// Cross-attention: queries (R, N, D), rows grouped by sample (`rowsPerSample` rows each), attend
    /// to their sample's caption keys/values (B, L, 2D) = [k | v]; keyMask (B, L), 0 = excluded.
    static func crossAttention(
        queries q: UnsafePointer<Float>, rows: Int, sequence n: Int, rowsPerSample: Int,
        keyValues kv: UnsafePointer<Float>, keys l: Int, keyMask: UnsafePointer<Float>?, heads: Int, dim d: Int,
        into out: UnsafeMutablePointer<Float>, engine: GEMMEngine
    ) {
        let hd = d / heads
        var rowMask = [Float](repeating: 1, count: keyMask == nil ? 0 : rowsPerSample * l)
        for sample in 0..<(rows / rowsPerSample) {
            let firstRow = sample * rowsPerSample
            if let m = keyMask {
                for r in 0..<rowsPerSample { for j in 0..<l { rowMask[r * l + j] = m[sample * l + j] } }
            }
            let sampleKV = kv + sample * l * 2 * d
            rowMask.withUnsafeBufferPointer { mask in
                Attention.forward(
                    q: AttentionOperand(q + firstRow * n * d, tokenStride: d, rowStride: n * d),
                    k: AttentionOperand(sampleKV, tokenStride: 2 * d, rowStride: 0),
                    v: AttentionOperand(sampleKV + d, tokenStride: 2 * d, rowStride: 0),
                    rows: rowsPerSample, queries: n, keys: l, heads: heads, headDim: hd,
                    scale: 1 / Float(hd).squareRoot(),
                    keyMask: keyMask == nil ? nil : mask.baseAddress, into: out + firstRow * n * d, engine: engine)
            }
        }
    }
}
