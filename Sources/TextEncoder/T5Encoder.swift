// The T5 v1.1 encoder (transformers T5EncoderModel) as the text-to-video pipeline runs it:
// ids (n, L) and attention masks (n, L) → last_hidden_state (n, L, D) for all L positions,
// padding included. Per block: RMSNorm → self-attention with no 1/√d scaling, the shared
// relative-position bias and masked keys → residual; RMSNorm → gated tanh-GELU feed-forward →
// residual; a final RMSNorm. Linear layers run in the engine's precision; norms, softmax and
// attention products in fp32.

import Foundation
import TensorCore

/// A loaded T5 encoder. Immutable after loading; `encode` may run from any thread.
public final class T5Encoder: @unchecked Sendable {
    public let config: T5Config
    /// The GEMM engine the linear layers run on (its precision is the compute precision).
    public let engine: GEMMEngine
    /// How the weights are kept (see T5Weights.swift).
    public let residency: T5WeightResidency
    /// Identifies the weights and the arithmetic, for caching embeddings (folder, files, precision).
    public let identity: String
    let weights: T5LoadedWeights

    init(config: T5Config, engine: GEMMEngine, weights: T5LoadedWeights, identity: String) {
        self.config = config
        self.engine = engine
        self.weights = weights
        self.residency = weights.residency
        self.identity = identity
    }

    /// Loads a transformers T5 encoder folder (config.json + weights). `residency` nil chooses
    /// by the engine's precision and the stored dtypes (`T5WeightResidency.automatic`).
    public static func load(
        folder: URL, engine: GEMMEngine, residency: T5WeightResidency? = nil
    ) throws(TextEncoderError) -> T5Encoder {
        let config = try T5Config.load(folder.appendingPathComponent("config.json"))
        let weights = try T5LoadedWeights.load(folder: folder, config: config, engine: engine, residency: residency)
        let identity =
            "t5:\(FileIdentity.describe(folder: folder))|\(engine.backend.rawValue)|\(engine.precision.rawValue)"
        return T5Encoder(config: config, engine: engine, weights: weights, identity: identity)
    }

    /// Encodes tokenized prompts (all of the same padded length L) → (n, L, D).
    public func encode(_ prompts: [TokenizedPrompt]) -> Tensor {
        encode(ids: prompts.map(\.ids), masks: prompts.map(\.attentionMask))
    }

    /// last_hidden_state (n, L, D) for ids and attention masks (n, L) (mask 1 = keep).
    /// Masked keys get no attention weight; every query position, padding included, has an output.
    public func encode(ids: [[Int]], masks: [[Int]]) -> Tensor {
        let n = ids.count
        precondition(n > 0 && masks.count == n, "encode: \(n) id rows and \(masks.count) mask rows")
        let length = ids[0].count
        precondition(
            length > 0 && ids.allSatisfy { $0.count == length } && masks.allSatisfy { $0.count == length },
            "encode: every id and mask row must have the same length")
        let d = config.dModel, inner = config.innerDim, rows = n * length
        let eps = Float(config.layerNormEpsilon)

        // h (n·L, D) = embedding rows.
        var hidden = Tensor(zeros: [n, length, d])
        let h = hidden.mutablePointer()
        for (r, id) in ids.joined().enumerated() { weights.embedding.row(id, into: h + r * d) }
        let keyMask = Tensor(shape: [n, length], values: masks.joined().map { $0 != 0 ? 1 : 0 })
        let bias = weights.relativeBias.bias(length: length)  // (heads, L, L), shared by all blocks

        var normed = Tensor(zeros: [n, length, d])
        var q = Tensor(zeros: [n, length, inner]), k = q, v = q
        var gate = Tensor(zeros: [rows, config.dFF]), up = gate
        let a = normed.mutablePointer()
        let qp = q.mutablePointer(), kp = k.mutablePointer(), vp = v.mutablePointer()
        let gp = gate.mutablePointer(), up2 = up.mutablePointer()
        for block in weights.blocks {
            let w = block.prepared(engine)  // streamed blocks are converted here, dropped after
            withExtendedLifetime(block) {
                // Self-attention: h += o(attention(RMSNorm(h))).
                Norm.rmsNorm(
                    UnsafePointer(h), rows: rows, dim: d, weight: block.attentionNorm.pointer, eps: eps, into: a)
                engine.linear(UnsafePointer(a), rows: rows, weight: w.q.prepared(engine), bias: nil, into: qp)
                engine.linear(UnsafePointer(a), rows: rows, weight: w.k.prepared(engine), bias: nil, into: kp)
                engine.linear(UnsafePointer(a), rows: rows, weight: w.v.prepared(engine), bias: nil, into: vp)
                let attended = Attention.attention(
                    q: q, k: k, v: v, heads: config.numHeads, scale: 1, keyMask: keyMask, bias: bias, engine: engine)
                withExtendedLifetime(attended) {
                    engine.linear(
                        attended.pointer, rows: rows, weight: w.o.prepared(engine), bias: nil, into: h, accumulate: true
                    )
                }
                // Feed-forward: h += wo(gelu_tanh(wi_0·f) ⊙ wi_1·f), f = RMSNorm(h).
                Norm.rmsNorm(
                    UnsafePointer(h), rows: rows, dim: d, weight: block.feedForwardNorm.pointer, eps: eps, into: a)
                engine.linear(UnsafePointer(a), rows: rows, weight: w.wi0.prepared(engine), bias: nil, into: gp)
                engine.linear(UnsafePointer(a), rows: rows, weight: w.wi1.prepared(engine), bias: nil, into: up2)
                Activation.gatedGELU(UnsafePointer(gp), UnsafePointer(up2), count: rows * config.dFF, into: gp)
                engine.linear(
                    UnsafePointer(gp), rows: rows, weight: w.wo.prepared(engine), bias: nil, into: h, accumulate: true)
            }
        }
        var out = Tensor(zeros: [n, length, d])
        let op = out.mutablePointer()
        withExtendedLifetime((normed, q, k, v, gate, up, weights.finalNorm)) {
            Norm.rmsNorm(UnsafePointer(h), rows: rows, dim: d, weight: weights.finalNorm.pointer, eps: eps, into: op)
        }
        return withExtendedLifetime(hidden) { out }
    }
}

extension T5Config {
    /// FLOPs (2 per multiply-add) of one encode of `batch` sequences of `tokens`: the linear
    /// layers plus the two attention products; the embedding, norms and softmax are not counted.
    public func flops(batch: Int, tokens: Int) -> Double {
        let rows = Double(batch * tokens)
        let linear = 2 * rows * Double(4 * dModel * innerDim + 3 * dModel * dFF)
        let attention = 2 * 2 * Double(batch * numHeads * tokens * tokens * dKV)
        return Double(numLayers) * (linear + attention)
    }
}
