// Blocks of the text-to-video Latte transformer (diffusers 0.24 BasicTransformerBlock with
// norm_type "ada_norm_single", and Latte's BasicTransformerBlock_ for the temporal blocks):
//
//   (shift1, scale1, gate1, shift2, scale2, gate2) = t6 + scale_shift_table      (per sample)
//   x += gate1 ⊙ SelfAttn(LN(x)·(1+scale1) + shift1)
//   x += CrossAttn(query = x, key/value = projected caption)     (spatial blocks only; no norm, no gate)
//   x += gate2 ⊙ FF(LN(x)·(1+scale2) + shift2),  FF = Linear → tanh-GELU → Linear
// LN: no affine, eps 1e-6. q/k/v have biases; attention scale 1/√hd.
//
// Shapes: x (R, N, D); rows of one sample are contiguous (rowsPerSample rows).
// Caption key/values: (B, L, 2D) = [k | v], shared by the rows of a sample.

import TensorCore

struct LatteT2VBlock {
    let selfQKV: Linear  // (3D, D): to_q, to_k, to_v stacked
    let selfOut: Linear  // (D, D)
    let crossQ: Linear?  // (D, D)
    let crossKV: Linear?  // (2D, D): to_k, to_v stacked (applied to the projected caption)
    let crossOut: Linear?
    let ff1: Linear  // (4D, D)
    let ff2: Linear  // (D, 4D)
    let scaleShiftTable: Tensor  // (6, D)

    init(prefix: String, hidden d: Int, mlpHidden: Int, crossAttention: Bool, engine: GEMMEngine, tensor: WeightLookup) throws {
        func weight(_ name: String, _ shape: [Int]) throws -> Tensor { try tensor("\(prefix).\(name)", shape) }
        func stacked(_ attn: String, _ parts: [String]) throws -> Linear {
            let ws = try parts.map { try weight("\(attn).to_\($0).weight", [d, d]) }
            let bs = try parts.map { try weight("\(attn).to_\($0).bias", [d]) }
            return Linear(weight: Tensor(stacking: ws), bias: Tensor(stacking: bs), engine: engine)
        }
        func linear(_ name: String, _ out: Int, _ inp: Int) throws -> Linear {
            Linear(weight: try weight("\(name).weight", [out, inp]), bias: try weight("\(name).bias", [out]), engine: engine)
        }
        selfQKV = try stacked("attn1", ["q", "k", "v"])
        selfOut = try linear("attn1.to_out.0", d, d)
        if crossAttention {
            crossQ = try linear("attn2.to_q", d, d)
            crossKV = try stacked("attn2", ["k", "v"])
            crossOut = try linear("attn2.to_out.0", d, d)
        } else {
            crossQ = nil
            crossKV = nil
            crossOut = nil
        }
        ff1 = try linear("ff.net.0.proj", mlpHidden, d)
        ff2 = try linear("ff.net.2", d, mlpHidden)
        scaleShiftTable = try weight("scale_shift_table", [6, d])
    }

    /// Runs the block in place on x (R, N, D).
    /// - t6: (B, 6D) adaLN-single output; caption: (B, L, 2D) cross-attention keys/values (spatial
    ///   blocks); keyMask: (B, L) with 1 = attend, 0 = excluded (the official -10000 bias), or nil.
    func callAsFunction(
        _ x: inout Tensor, t6: Tensor, rowsPerSample: Int, heads: Int, caption: Tensor?, keyMask: Tensor?,
        workspace ws: BlockWorkspace, engine: GEMMEngine
    ) {
        let (r, n, d) = (x.shape[0], x.shape[1], x.shape[2])
        let tokens = r * n
        let mod = modulation(t6)  // (B, 6D)
        ws.reserve(tokens: tokens, hidden: d, mlpHidden: ff1.outFeatures)
        let xp = x.mutablePointer()
        withExtendedLifetime((mod, caption, keyMask)) {
            let m = mod.pointer, stride = 6 * d
            LatteKernels.layerNormModulate(
                xp, rows: r, tokens: n, dim: d, shift: m, scale: m + d, modulationStride: stride,
                rowsPerSample: rowsPerSample, into: ws.normed)
            selfQKV.apply(ws.normed, rows: tokens, into: ws.qkv, engine: engine)
            LatteKernels.selfAttention(qkv: ws.qkv, rows: r, sequence: n, heads: heads, dim: d, into: ws.attended, engine: engine)
            selfOut.apply(ws.attended, rows: tokens, into: ws.normed, engine: engine)
            LatteKernels.gatedResidual(
                xp, ws.normed, rows: r, tokens: n, dim: d, gate: m + 2 * d, modulationStride: stride,
                rowsPerSample: rowsPerSample)
            if let crossQ, let crossOut, let caption {
                let keys = caption.shape[1]
                crossQ.apply(xp, rows: tokens, into: ws.normed, engine: engine)
                LatteKernels.crossAttention(
                    queries: ws.normed, rows: r, sequence: n, rowsPerSample: rowsPerSample, keyValues: caption.pointer,
                    keys: keys, keyMask: keyMask?.pointer, heads: heads, dim: d, into: ws.attended, engine: engine)
                crossOut.apply(ws.attended, rows: tokens, into: ws.normed, engine: engine)
                LatteKernels.addInPlace(xp, ws.normed, count: tokens * d)
            }
            LatteKernels.layerNormModulate(
                xp, rows: r, tokens: n, dim: d, shift: m + 3 * d, scale: m + 4 * d, modulationStride: stride,
                rowsPerSample: rowsPerSample, into: ws.normed)
            ff1.apply(ws.normed, rows: tokens, into: ws.mlp, engine: engine)
            LatteKernels.geluTanhInPlace(ws.mlp, count: tokens * ff1.outFeatures)
            ff2.apply(ws.mlp, rows: tokens, into: ws.attended, engine: engine)
            LatteKernels.gatedResidual(
                xp, ws.attended, rows: r, tokens: n, dim: d, gate: m + 5 * d, modulationStride: stride,
                rowsPerSample: rowsPerSample)
        }
    }

    /// t6 (B, 6D) + scale_shift_table (6, D) broadcast over the batch.
    private func modulation(_ t6: Tensor) -> Tensor {
        var m = t6.copy()
        LatteKernels.addRowBroadcast(&m, scaleShiftTable.reshaped([scaleShiftTable.count]))
        return m
    }

    /// Projects the caption (B, L, D) to this block's cross-attention keys/values (B, L, 2D).
    func captionKeyValues(_ caption: Tensor, engine: GEMMEngine) -> Tensor? {
        crossKV.map { $0(caption, engine: engine) }
    }
}
