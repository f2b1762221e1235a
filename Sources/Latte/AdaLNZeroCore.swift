// The adaLN-Zero core shared by every Latte block (class-to-video TransformerBlock, text-to-video
// BasicTransformerBlock with ada_norm_single): given the per-sample modulation
// m = (shift1, scale1, gate1, shift2, scale2, gate2), each D wide,
//   x += gate1 ⊙ proj(SelfAttn(LN(x)·(1+scale1) + shift1))
//   [between: e.g. the text-to-video cross-attention]
//   x += gate2 ⊙ fc2(GELU_tanh(fc1(LN(x)·(1+scale2) + shift2)))
// LN: no affine, eps 1e-6. Self-attention: qkv = [q|k|v] head-major, logits scaled by hd^-0.5.
//
// Shapes: x (R, N, D) with R rows of N positions; the rows of one sample are contiguous
// (rowsPerSample rows), so the modulation of sample b applies to rows [b·rowsPerSample, …).

import TensorCore

struct AdaLNZeroCore {
    let qkv: Linear  // (3D, D)
    let proj: Linear  // (D, D)
    let fc1: Linear  // (H, D)
    let fc2: Linear  // (D, H)

    /// Runs the core in place on x. `modulation` is (B, 6D); `between` runs after the attention
    /// residual with the stream pointer and the workspace.
    func run(
        _ x: inout Tensor, modulation mod: Tensor, rowsPerSample: Int, heads: Int, workspace ws: BlockWorkspace,
        engine: GEMMEngine, between: ((UnsafeMutablePointer<Float>) -> Void)? = nil
    ) {
        let (r, n, d) = (x.shape[0], x.shape[1], x.shape[2])
        let tokens = r * n
        precondition(
            mod.shape.last == 6 * d && mod.count / (6 * d) == r / rowsPerSample,
            "modulation \(mod.shape) for \(x.shape)")
        ws.reserve(tokens: tokens, hidden: d, mlpHidden: fc1.outFeatures)
        let xp = x.mutablePointer()
        withExtendedLifetime(mod) {
            let m = mod.pointer, stride = 6 * d
            LatteKernels.layerNormModulate(
                xp, rows: r, tokens: n, dim: d, shift: m, scale: m + d, modulationStride: stride,
                rowsPerSample: rowsPerSample, into: ws.normed)
            qkv.apply(ws.normed, rows: tokens, into: ws.qkv, engine: engine)
            LatteKernels.selfAttention(
                qkv: ws.qkv, rows: r, sequence: n, heads: heads, dim: d, into: ws.attended, engine: engine)
            proj.apply(ws.attended, rows: tokens, into: ws.normed, engine: engine)
            LatteKernels.gatedResidual(
                xp, ws.normed, rows: r, tokens: n, dim: d, gate: m + 2 * d, modulationStride: stride,
                rowsPerSample: rowsPerSample)
            between?(xp)
            LatteKernels.layerNormModulate(
                xp, rows: r, tokens: n, dim: d, shift: m + 3 * d, scale: m + 4 * d, modulationStride: stride,
                rowsPerSample: rowsPerSample, into: ws.normed)
            fc1.apply(ws.normed, rows: tokens, into: ws.mlp, engine: engine)
            LatteKernels.geluTanhInPlace(ws.mlp, count: tokens * fc1.outFeatures)
            fc2.apply(ws.mlp, rows: tokens, into: ws.attended, engine: engine)
            LatteKernels.gatedResidual(
                xp, ws.attended, rows: r, tokens: n, dim: d, gate: m + 5 * d, modulationStride: stride,
                rowsPerSample: rowsPerSample)
        }
    }
}
