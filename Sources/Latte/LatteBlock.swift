// One transformer block of the class-to-video Latte (official models/latte.py TransformerBlock):
// the adaLN-Zero core (AdaLNZeroCore.swift) modulated by m = SiLU(c)·Wadaᵀ + b (per sample, 6D).
// The same weights serve spatial blocks (attention over the T tokens of a frame) and temporal
// blocks (attention over the F frames of a token position).

import TensorCore

struct LatteBlock {
    let core: AdaLNZeroCore
    let adaLN: Linear  // (6D, D)

    init(prefix: String, config: LatteConfig, engine: GEMMEngine, tensor: WeightLookup) throws {
        let d = config.hiddenSize, hidden = config.mlpHidden
        func linear(_ name: String, _ out: Int, _ inp: Int) throws -> Linear {
            Linear(
                weight: try tensor("\(prefix).\(name).weight", [out, inp]),
                bias: try tensor("\(prefix).\(name).bias", [out]), engine: engine)
        }
        core = AdaLNZeroCore(
            qkv: try linear("attn.qkv", 3 * d, d), proj: try linear("attn.proj", d, d),
            fc1: try linear("mlp.fc1", hidden, d), fc2: try linear("mlp.fc2", d, hidden))
        adaLN = try linear("adaLN_modulation.1", 6 * d, d)
    }

    /// Runs the block in place on h (R, N, D). `siluCond` is SiLU(c) per sample (B, D).
    func callAsFunction(
        _ h: inout Tensor, siluCond: Tensor, rowsPerSample: Int, heads: Int, workspace ws: BlockWorkspace,
        engine: GEMMEngine
    ) {
        let mod = adaLN(siluCond, engine: engine)  // (B, 6D)
        core.run(&h, modulation: mod, rowsPerSample: rowsPerSample, heads: heads, workspace: ws, engine: engine)
    }
}

/// Scratch buffers reused by every block of one forward (sized for the largest chunk), from
/// `ScratchMemory` (aligned; poisoned in the determinism tests, so a read of a slot no kernel wrote
/// shows up).
public final class BlockWorkspace {
    /// Tokens per chunk. Every sub-block of a block is row-local (attention runs within a row), so a
    /// block runs chunk by chunk of whole rows of one sample, at most this many tokens each (at
    /// least one row): the workspace holds one chunk (the MLP's hidden activations are 4D per
    /// token) instead of the whole stream, and the GEMMs still run at M ≈ 1024, within 3% of their
    /// speed at 4096 (bench gemm).
    public static let defaultChunkTokens = 1024

    let chunkTokens: Int
    private(set) var normed = ScratchMemory.allocateFloats(1)
    private(set) var qkv = ScratchMemory.allocateFloats(1)
    private(set) var attended = ScratchMemory.allocateFloats(1)
    private(set) var mlp = ScratchMemory.allocateFloats(1)
    private var capacityTokens = 0
    private var capacityHidden = 0
    private var capacityMLP = 0

    init(chunkTokens: Int) {
        precondition(chunkTokens >= 1, "chunkTokens must be at least 1")
        self.chunkTokens = chunkTokens
    }

    func reserve(tokens: Int, hidden: Int, mlpHidden: Int) {
        guard tokens > capacityTokens || hidden > capacityHidden || mlpHidden > capacityMLP else { return }
        release()
        capacityTokens = max(tokens, capacityTokens)
        capacityHidden = max(hidden, capacityHidden)
        capacityMLP = max(mlpHidden, capacityMLP)
        normed = ScratchMemory.allocateFloats(capacityTokens * capacityHidden)
        qkv = ScratchMemory.allocateFloats(capacityTokens * 3 * capacityHidden)
        attended = ScratchMemory.allocateFloats(capacityTokens * capacityHidden)
        mlp = ScratchMemory.allocateFloats(capacityTokens * capacityMLP)
    }

    private func release() {
        for p in [normed, qkv, attended, mlp] { ScratchMemory.release(p) }
    }

    deinit { release() }
}

/// Looks up a checkpoint tensor by name, checking its shape.
typealias WeightLookup = (_ name: String, _ shape: [Int]) throws -> Tensor
