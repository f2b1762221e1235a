// The adaLN-Zero core shared by every Latte block (class-to-video TransformerBlock, text-to-video
// BasicTransformerBlock with ada_norm_single): given the per-sample modulation
// m = (shift1, scale1, gate1, shift2, scale2, gate2), each D wide,
//   x += gate1 ⊙ proj(SelfAttn(LN(x)·(1+scale1) + shift1))
//   [between: e.g. the text-to-video cross-attention]
//   x += gate2 ⊙ fc2(GELU_tanh(fc1(LN(x)·(1+scale2) + shift2)))
// LN: no affine, eps 1e-6. Self-attention: qkv = [q|k|v] head-major, logits scaled by hd^-0.5.
//
// Shapes: x (R, N, D) with R rows of N positions; the rows of one sample are contiguous
// (rowsPerSample rows), so the modulation of sample b applies to rows [b·rowsPerSample, …). The
// block runs on chunks of whole rows of one sample (`StreamChunk`), all three sub-blocks per chunk.

import TensorCore

/// Rows of the stream that one pass of a block processes: `rows` rows (`tokens` = rows·N tokens)
/// of sample `sample`, starting at `x`.
struct StreamChunk {
    let x: UnsafeMutablePointer<Float>
    let sample: Int
    let rows: Int
    let tokens: Int
}

struct AdaLNZeroCore {
    let qkv: Linear  // (3D, D)
    let proj: Linear  // (D, D)
    let fc1: Linear  // (H, D)
    let fc2: Linear  // (D, H)

    /// Runs the core in place on x. `modulation` is (B, 6D); `between` runs on each chunk after its
    /// attention residual, with the workspace free to use.
    func run(
        _ x: inout Tensor, modulation mod: Tensor, rowsPerSample: Int, heads: Int, workspace ws: BlockWorkspace,
        engine: GEMMEngine, between: ((StreamChunk) -> Void)? = nil
    ) {
        let (r, n, d) = (x.shape[0], x.shape[1], x.shape[2])
        precondition(
            mod.shape.last == 6 * d && mod.count / (6 * d) == r / rowsPerSample,
            "modulation \(mod.shape) for \(x.shape)")
        let chunkRows = max(1, min(rowsPerSample, ws.chunkTokens / max(n, 1)))
        ws.reserve(tokens: chunkRows * n, hidden: d, mlpHidden: fc1.outFeatures)
        let xp = x.mutablePointer()
        withExtendedLifetime(mod) {
            let stride = 6 * d
            for sample in 0..<(r / rowsPerSample) {
                let m = mod.pointer + sample * stride
                var first = 0
                while first < rowsPerSample {
                    let rows = min(chunkRows, rowsPerSample - first)
                    let chunk = StreamChunk(
                        x: xp + (sample * rowsPerSample + first) * n * d, sample: sample, rows: rows, tokens: rows * n)
                    attention(chunk, sequence: n, dim: d, modulation: m, heads: heads, workspace: ws, engine: engine)
                    between?(chunk)
                    mlp(chunk, sequence: n, dim: d, modulation: m, workspace: ws, engine: engine)
                    first += rows
                }
            }
        }
    }

    /// x += gate1 ⊙ proj(SelfAttn(LN(x)·(1+scale1) + shift1)) on one chunk; m is its sample's (6D).
    private func attention(
        _ c: StreamChunk, sequence n: Int, dim d: Int, modulation m: UnsafePointer<Float>, heads: Int,
        workspace ws: BlockWorkspace, engine: GEMMEngine
    ) {
        LatteKernels.layerNormModulate(
            c.x, rows: c.rows, tokens: n, dim: d, shift: m, scale: m + d, modulationStride: 0, rowsPerSample: c.rows,
            into: ws.normed)
        qkv.apply(ws.normed, rows: c.tokens, into: ws.qkv, engine: engine)
        LatteKernels.selfAttention(
            qkv: ws.qkv, rows: c.rows, sequence: n, heads: heads, dim: d, into: ws.attended, engine: engine)
        proj.apply(ws.attended, rows: c.tokens, into: ws.normed, engine: engine)
        LatteKernels.gatedResidual(c.x, ws.normed, tokens: c.tokens, dim: d, gate: m + 2 * d)
    }

    /// x += gate2 ⊙ fc2(GELU_tanh(fc1(LN(x)·(1+scale2) + shift2))) on one chunk.
    private func mlp(
        _ c: StreamChunk, sequence n: Int, dim d: Int, modulation m: UnsafePointer<Float>,
        workspace ws: BlockWorkspace, engine: GEMMEngine
    ) {
        LatteKernels.layerNormModulate(
            c.x, rows: c.rows, tokens: n, dim: d, shift: m + 3 * d, scale: m + 4 * d, modulationStride: 0,
            rowsPerSample: c.rows, into: ws.normed)
        fc1.apply(ws.normed, rows: c.tokens, into: ws.mlp, engine: engine)
        LatteKernels.geluTanhInPlace(ws.mlp, count: c.tokens * fc1.outFeatures)
        fc2.apply(ws.mlp, rows: c.tokens, into: ws.attended, engine: engine)
        LatteKernels.gatedResidual(c.x, ws.attended, tokens: c.tokens, dim: d, gate: m + 5 * d)
    }
}
