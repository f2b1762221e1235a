// The tensor operations the Latte transformer uses, in one place: layout moves specific to Latte
// (patchify, unpatchify, the S <-> Tm rearranges) and the fused adaLN kernels.
// Shapes are stated per function; "rows" are token rows of D features.

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
                                    dst[((frame * c + ch) * height + i * p + a) * width + j * p + bb] = tok[(a * p + bb) * c + ch]
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Permutes the axes of a rank-5 tensor: out.shape[i] = x.shape[perm[i]].
    static func permute5(_ x: Tensor, _ perm: [Int]) -> Tensor {
        precondition(x.rank == 5 && perm.sorted() == [0, 1, 2, 3, 4], "permute5 needs a rank-5 tensor and a permutation")
        let shape = x.shape
        var strides = [Int](repeating: 1, count: 5)
        for i in stride(from: 3, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
        let outShape = perm.map { shape[$0] }
        let s = perm.map { strides[$0] }
        var out = Tensor(zeros: outShape)
        let dst = out.mutablePointer(), src = x.pointer
        withExtendedLifetime(x) {
            var o = 0
            for i0 in 0..<outShape[0] {
                for i1 in 0..<outShape[1] {
                    for i2 in 0..<outShape[2] {
                        for i3 in 0..<outShape[3] {
                            let base = i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3]
                            for i4 in 0..<outShape[4] {
                                dst[o] = src[base + i4 * s[4]]
                                o += 1
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
        let d = h.shape[2]
        var out = Tensor(zeros: [b * t, f, d])
        let dst = out.mutablePointer(), src = h.pointer
        withExtendedLifetime(h) {
            Parallel.forRange(b * f, grain: 1) { range in
                for row in range {
                    let (bi, fi) = (row / f, row % f)
                    for n in 0..<t {
                        (dst + ((bi * t + n) * f + fi) * d).update(from: src + (row * t + n) * d, count: d)
                    }
                }
            }
        }
        return out
    }

    /// Tm (B·T, F, D) -> S (B·F, T, D).
    static func temporalToSpatial(_ h: Tensor, batch b: Int, frames f: Int, tokens t: Int) -> Tensor {
        let d = h.shape[2]
        var out = Tensor(zeros: [b * f, t, d])
        let dst = out.mutablePointer(), src = h.pointer
        withExtendedLifetime(h) {
            Parallel.forRange(b * f, grain: 1) { range in
                for row in range {
                    let (bi, fi) = (row / f, row % f)
                    for n in 0..<t {
                        (dst + (row * t + n) * d).update(from: src + ((bi * t + n) * f + fi) * d, count: d)
                    }
                }
            }
        }
        return out
    }

    /// h (..., N, D) += table (N, D), broadcast over the leading dimensions.
    static func addRowBroadcast(_ h: inout Tensor, _ table: Tensor) {
        let n = table.count
        precondition(h.count % n == 0, "cannot broadcast \(table.shape) over \(h.shape)")
        let hp = h.mutablePointer(), tp = table.pointer
        withExtendedLifetime(table) {
            for r in 0..<(h.count / n) { for i in 0..<n { hp[r * n + i] += tp[i] } }
        }
    }

    /// Tm (B·T, F, D) += temp_embed (F, D) for every row.
    static func addFrameEmbedding(_ h: inout Tensor, _ table: Tensor) { addRowBroadcast(&h, table) }

    static func siluInPlace(_ x: inout Tensor) {
        let p = x.mutablePointer()
        for i in 0..<x.count { p[i] = p[i] / (1 + Foundation.exp(-p[i])) }
    }

    static func addInPlace(_ x: inout Tensor, _ y: Tensor) {
        precondition(x.shape == y.shape, "adding \(y.shape) to \(x.shape)")
        let p = x.mutablePointer(), q = y.pointer
        withExtendedLifetime(y) { for i in 0..<x.count { p[i] += q[i] } }
    }

    /// x += y over `count` elements.
    static func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
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
        let rows = a.count / da
        precondition(b.count / db == rows, "concat of \(a.shape) and \(b.shape)")
        var out = Tensor(zeros: Array(a.shape.dropLast()) + [da + db])
        let o = out.mutablePointer(), ap = a.pointer, bp = b.pointer
        withExtendedLifetime((a, b)) {
            for r in 0..<rows {
                (o + r * (da + db)).update(from: ap + r * da, count: da)
                (o + r * (da + db) + da).update(from: bp + r * db, count: db)
            }
        }
        return out
    }

    /// Affine LayerNorm over rows of `dim` in place (biased variance).
    static func layerNormAffineInPlace(_ x: inout Tensor, rows: Int, dim: Int, weight: Tensor, bias: Tensor, eps: Float) {
        let p = x.mutablePointer(), w = weight.pointer, b = bias.pointer
        withExtendedLifetime((weight, bias)) {
            for r in 0..<rows {
                let row = p + r * dim
                let (mean, inv) = moments(row, dim, eps)
                for i in 0..<dim { row[i] = (row[i] - mean) * inv * w[i] + b[i] }
            }
        }
    }

    /// out = LN(x)·(1 + scale) + shift, LN without affine (eps 1e-6); token rows of sample s use
    /// shift/scale at offset s·modulationStride (a sample spans tokensPerSample rows).
    static func layerNormModulate(
        _ x: UnsafePointer<Float>, rows: Int, dim: Int, shift: UnsafePointer<Float>, scale: UnsafePointer<Float>,
        modulationStride: Int, tokensPerSample: Int, into out: UnsafeMutablePointer<Float>
    ) {
        Parallel.forRange(rows, grain: 64) { range in
            for r in range {
                let s = r / tokensPerSample
                let row = x + r * dim, o = out + r * dim
                let sh = shift + s * modulationStride, sc = scale + s * modulationStride
                let (mean, inv) = moments(row, dim, 1e-6)
                for i in 0..<dim { o[i] = ((row[i] - mean) * inv) * (1 + sc[i]) + sh[i] }
            }
        }
    }

    /// h += gate ⊙ y with the per-sample gate.
    static func gatedResidual(
        _ h: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, rows: Int, dim: Int, gate: UnsafePointer<Float>,
        modulationStride: Int, tokensPerSample: Int
    ) {
        Parallel.forRange(rows, grain: 64) { range in
            for r in range {
                let g = gate + (r / tokensPerSample) * modulationStride
                for i in 0..<dim { h[r * dim + i] += g[i] * y[r * dim + i] }
            }
        }
    }

    static func geluTanhInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let k = Float((2.0 / Double.pi).squareRoot())
        Parallel.forRange(count, grain: 4096) { range in
            for i in range {
                let v = x[i]
                x[i] = 0.5 * v * (1 + Foundation.tanh(k * (v + 0.044715 * v * v * v)))
            }
        }
    }

    /// Multi-head self-attention on packed qkv (R, N, 3D) -> (R, N, D), scale hd^-0.5.
    static func attention(
        qkv: UnsafePointer<Float>, rows: Int, sequence n: Int, heads: Int, dim d: Int,
        into out: UnsafeMutablePointer<Float>, engine: GEMMEngine
    ) {
        attention(
            AttentionInput(
                q: qkv, k: qkv + d, v: qkv + 2 * d, queryStride: 3 * d, keyValueStride: 3 * d, rows: rows,
                queries: n, keys: n, heads: heads, headDim: d / heads, keyValueShare: 1, keyBias: nil),
            into: out, engine: engine)
    }

    /// Operands of one multi-head attention call (pointers to token rows; head e uses columns
    /// e·hd ..< (e+1)·hd of q, k and v).
    struct AttentionInput {
        /// (R, Nq) query tokens, `queryStride` floats apart.
        var q: UnsafePointer<Float>
        /// (R / keyValueShare, Nk) key and value tokens, `keyValueStride` floats apart.
        var k: UnsafePointer<Float>
        var v: UnsafePointer<Float>
        var queryStride: Int
        var keyValueStride: Int
        var rows: Int
        var queries: Int
        var keys: Int
        var heads: Int
        var headDim: Int
        /// Query row r uses key/value row r / keyValueShare (e.g. the F frames of one sample share
        /// its caption).
        var keyValueShare: Int
        /// Additive bias per key/value row and key, (R / keyValueShare, Nk), or nil.
        var keyBias: UnsafePointer<Float>?
    }

    /// softmax(q·kᵀ/√hd + bias)·v per row and head -> out (R, Nq, heads·hd), head-major.
    static func attention(_ a: AttentionInput, into out: UnsafeMutablePointer<Float>, engine: GEMMEngine) {
        let (n, m, hd) = (a.queries, a.keys, a.headDim)
        let d = a.heads * hd
        let scale = 1 / Float(hd).squareRoot()
        Parallel.forRange(a.rows * a.heads, grain: 1) { range in
            var scores = [Float](repeating: 0, count: m)
            for item in range {
                let (r, e) = (item / a.heads, item % a.heads)
                let kvRow = r / a.keyValueShare
                let bias = a.keyBias.map { $0 + kvRow * m }
                for i in 0..<n {
                    let q = a.q + (r * n + i) * a.queryStride + e * hd
                    var mx = -Float.infinity
                    for j in 0..<m {
                        let k = a.k + (kvRow * m + j) * a.keyValueStride + e * hd
                        var s: Float = 0
                        for c in 0..<hd { s += q[c] * k[c] }
                        s *= scale
                        if let bias { s += bias[j] }
                        scores[j] = s
                        mx = max(mx, s)
                    }
                    var sum: Float = 0
                    for j in 0..<m {
                        let v = Foundation.exp(scores[j] - mx)
                        scores[j] = v
                        sum += v
                    }
                    let o = out + (r * n + i) * d + e * hd
                    for c in 0..<hd { o[c] = 0 }
                    for j in 0..<m {
                        let pj = scores[j] / sum
                        let v = a.v + (kvRow * m + j) * a.keyValueStride + e * hd
                        for c in 0..<hd { o[c] += pj * v[c] }
                    }
                }
            }
        }
    }

    /// Mean and 1/sqrt(var + eps) of one row (accumulated in Double).
    @inline(__always)
    static func moments(_ row: UnsafePointer<Float>, _ n: Int, _ eps: Float) -> (Float, Float) {
        var s = 0.0
        for i in 0..<n { s += Double(row[i]) }
        let mean = s / Double(n)
        var v = 0.0
        for i in 0..<n {
            let dv = Double(row[i]) - mean
            v += dv * dv
        }
        let variance = v / Double(n)
        return (Float(mean), Float(1 / (variance + Double(eps)).squareRoot()))
    }
}
