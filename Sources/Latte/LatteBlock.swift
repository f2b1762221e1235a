// One adaLN-Zero transformer block of Latte (official models/latte.py TransformerBlock, timm
// Attention + Mlp): the same weights serve spatial blocks (attention over the T tokens of a frame)
// and temporal blocks (attention over the F frames of a token position).
//
//   m = SiLU(c)·Wadaᵀ + b  -> shift1, scale1, gate1, shift2, scale2, gate2   (per sample, 6D)
//   h += gate1 ⊙ proj(Attn(LN(h)·(1+scale1) + shift1))
//   h += gate2 ⊙ fc2(GELU_tanh(fc1(LN(h)·(1+scale2) + shift2)))
// LN: no affine, eps 1e-6. Attention: qkv = [q|k|v] head-major, logits scaled by hd^-0.5.
//
// Shapes: h (R, N, D) with R rows of N positions; all rows of one sample are contiguous
// (rowsPerSample rows), so the modulation of sample b applies to rows [b·rowsPerSample, …).

import TensorCore

struct LatteBlock {
    let qkv: Linear  // (3D, D)
    let proj: Linear  // (D, D)
    let fc1: Linear  // (4D, D)
    let fc2: Linear  // (D, 4D)
    let adaLN: Linear  // (6D, D)

    init(prefix: String, config: LatteConfig, engine: GEMMEngine, tensor: WeightLookup) throws {
        let d = config.hiddenSize, hidden = config.mlpHidden
        func linear(_ name: String, _ out: Int, _ inp: Int) throws -> Linear {
            Linear(
                weight: try tensor("\(prefix).\(name).weight", [out, inp]),
                bias: try tensor("\(prefix).\(name).bias", [out]), engine: engine)
        }
        qkv = try linear("attn.qkv", 3 * d, d)
        proj = try linear("attn.proj", d, d)
        fc1 = try linear("mlp.fc1", hidden, d)
        fc2 = try linear("mlp.fc2", d, hidden)
        adaLN = try linear("adaLN_modulation.1", 6 * d, d)
    }

    /// Runs the block in place on h (R, N, D). `siluCond` is SiLU(c) per sample (B, D).
    func callAsFunction(
        _ h: inout Tensor, siluCond: Tensor, rowsPerSample: Int, heads: Int, workspace ws: BlockWorkspace,
        engine: GEMMEngine
    ) {
        let (r, n, d) = (h.shape[0], h.shape[1], h.shape[2])
        let tokens = r * n
        let mod = adaLN(siluCond, engine: engine)  // (B, 6D)
        ws.reserve(tokens: tokens, hidden: d, mlpHidden: fc1.outFeatures)
        let hp = h.mutablePointer()
        withExtendedLifetime((mod, siluCond)) {
            let m = mod.pointer
            let stride = 6 * d
            // Attention branch.
            LatteKernels.layerNormModulate(
                hp, rows: r, tokens: n, dim: d, shift: m, scale: m + d, modulationStride: stride,
                rowsPerSample: rowsPerSample, into: ws.normed)
            qkv.apply(ws.normed, rows: tokens, into: ws.qkv, engine: engine)
            LatteKernels.selfAttention(
                qkv: ws.qkv, rows: r, sequence: n, heads: heads, dim: d, into: ws.attended, engine: engine)
            proj.apply(ws.attended, rows: tokens, into: ws.normed, engine: engine)
            LatteKernels.gatedResidual(
                hp, ws.normed, rows: r, tokens: n, dim: d, gate: m + 2 * d, modulationStride: stride,
                rowsPerSample: rowsPerSample)
            // MLP branch.
            LatteKernels.layerNormModulate(
                hp, rows: r, tokens: n, dim: d, shift: m + 3 * d, scale: m + 4 * d, modulationStride: stride,
                rowsPerSample: rowsPerSample, into: ws.normed)
            fc1.apply(ws.normed, rows: tokens, into: ws.mlp, engine: engine)
            LatteKernels.geluTanhInPlace(ws.mlp, count: tokens * fc1.outFeatures)
            fc2.apply(ws.mlp, rows: tokens, into: ws.attended, engine: engine)
            LatteKernels.gatedResidual(
                hp, ws.attended, rows: r, tokens: n, dim: d, gate: m + 5 * d, modulationStride: stride,
                rowsPerSample: rowsPerSample)
        }
    }
}

/// Scratch buffers reused by every block of one forward (sized for the largest call).
final class BlockWorkspace {
    private(set) var normed = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private(set) var qkv = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private(set) var attended = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private(set) var mlp = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private var capacityTokens = 0
    private var capacityHidden = 0
    private var capacityMLP = 0

    func reserve(tokens: Int, hidden: Int, mlpHidden: Int) {
        guard tokens > capacityTokens || hidden > capacityHidden || mlpHidden > capacityMLP else { return }
        release()
        capacityTokens = max(tokens, capacityTokens)
        capacityHidden = max(hidden, capacityHidden)
        capacityMLP = max(mlpHidden, capacityMLP)
        normed = .allocate(capacity: capacityTokens * capacityHidden)
        qkv = .allocate(capacity: capacityTokens * 3 * capacityHidden)
        attended = .allocate(capacity: capacityTokens * capacityHidden)
        mlp = .allocate(capacity: capacityTokens * capacityMLP)
    }

    private func release() {
        normed.deallocate()
        qkv.deallocate()
        attended.deallocate()
        mlp.deallocate()
    }

    deinit { release() }
}

/// Looks up a checkpoint tensor by name, checking its shape.
typealias WeightLookup = (_ name: String, _ shape: [Int]) throws -> Tensor
