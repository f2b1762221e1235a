// Blocks of the text-to-video Latte transformer (diffusers 0.24 BasicTransformerBlock with
// norm_type "ada_norm_single", and Latte's BasicTransformerBlock_ for the temporal blocks): the
// adaLN-Zero core (AdaLNZeroCore.swift) with modulation t6 + scale_shift_table (per sample), and
// in spatial blocks, between attention and feed-forward,
//   x += CrossAttn(query = x, key/value = projected caption)     (no norm, no gate)
//
// Shapes: x (R, N, D); rows of one sample are contiguous (rowsPerSample rows).
// Caption key/values: (B, L, 2D) = [k | v], shared by the rows of a sample.

import TensorCore

struct LatteT2VBlock {
    /// Self-attention (to_q, to_k, to_v stacked into one (3D, D) qkv) and the feed-forward.
    let core: AdaLNZeroCore
    let crossQ: Linear?  // (D, D)
    let crossKV: Linear?  // (2D, D): to_k, to_v stacked (applied to the projected caption)
    let crossOut: Linear?
    let scaleShiftTable: Tensor  // (6, D)

    init(prefix: String, hidden d: Int, mlpHidden: Int, crossAttention: Bool, engine: GEMMEngine, tensor: WeightLookup)
        throws
    {
        func weight(_ name: String, _ shape: [Int]) throws -> Tensor { try tensor("\(prefix).\(name)", shape) }
        func stacked(_ attn: String, _ parts: [String]) throws -> Linear {
            let ws = try parts.map { try weight("\(attn).to_\($0).weight", [d, d]) }
            let bs = try parts.map { try weight("\(attn).to_\($0).bias", [d]) }
            return Linear(weight: Tensor(stacking: ws), bias: Tensor(stacking: bs), engine: engine)
        }
        func linear(_ name: String, _ out: Int, _ inp: Int) throws -> Linear {
            Linear(
                weight: try weight("\(name).weight", [out, inp]), bias: try weight("\(name).bias", [out]),
                engine: engine)
        }
        core = AdaLNZeroCore(
            qkv: try stacked("attn1", ["q", "k", "v"]), proj: try linear("attn1.to_out.0", d, d),
            fc1: try linear("ff.net.0.proj", mlpHidden, d), fc2: try linear("ff.net.2", d, mlpHidden))
        if crossAttention {
            crossQ = try linear("attn2.to_q", d, d)
            crossKV = try stacked("attn2", ["k", "v"])
            crossOut = try linear("attn2.to_out.0", d, d)
        } else {
            crossQ = nil
            crossKV = nil
            crossOut = nil
        }
        scaleShiftTable = try weight("scale_shift_table", [6, d])
    }

    /// Runs the block in place on x (R, N, D).
    /// - t6: (B, 6D) adaLN-single output; caption: (B, L, 2D) cross-attention keys/values (spatial
    ///   blocks); keyMask: (B, L) with 1 = attend, 0 = excluded (the official -10000 bias), or nil.
    func callAsFunction(
        _ x: inout Tensor, t6: Tensor, rowsPerSample: Int, heads: Int, caption: Tensor?, keyMask: Tensor?,
        workspace ws: BlockWorkspace, engine: GEMMEngine
    ) {
        let (n, d) = (x.shape[1], x.shape[2])
        core.run(
            &x, modulation: modulation(t6), rowsPerSample: rowsPerSample, heads: heads, workspace: ws, engine: engine
        ) { c in
            guard let crossQ, let crossOut, let caption else { return }
            let l = caption.shape[1]
            withExtendedLifetime((caption, keyMask)) {
                crossQ.apply(c.x, rows: c.tokens, into: ws.normed, engine: engine)
                LatteKernels.crossAttention(
                    queries: ws.normed, rows: c.rows, sequence: n, rowsPerSample: c.rows,
                    keyValues: caption.pointer + c.sample * l * 2 * d, keys: l,
                    keyMask: keyMask.map { $0.pointer + c.sample * l }, heads: heads, dim: d, into: ws.attended,
                    engine: engine)
                crossOut.apply(ws.attended, rows: c.tokens, into: ws.normed, engine: engine)
                LatteKernels.addInPlace(c.x, ws.normed, count: c.tokens * d)
            }
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
