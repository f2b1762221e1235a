// A T5 encoder with random weights at any size, for benchmarks (`skipdit bench forward --task
// t2v` times one T5-XXL encode). All blocks share one randomly drawn block: every block still
// runs its full GEMMs over a block-sized weight set (far larger than any cache), so time and
// FLOPs are those of distinct weights, while memory stays at one block plus the embedding.

import Foundation
import TensorCore

extension T5Encoder {
    /// Random weights (deterministic in `seed`) with `config`'s shapes; see the file comment.
    public static func synthetic(config: T5Config, engine: GEMMEngine, seed: UInt64 = 0) throws(TextEncoderError)
        -> T5Encoder
    {
        try config.validate(path: "synthetic config")
        let d = config.dModel, inner = config.innerDim, ff = config.dFF
        var stream: UInt64 = 0
        /// N(0, 1)·scale + offset, a new RandomNormal stream per tensor.
        func random(_ shape: [Int], scale: Float, offset: Float = 0) -> Tensor {
            stream += 1
            var t = RandomNormal.tensor(shape: shape, seed: seed, stream: stream, scale: scale)
            if offset != 0 {
                let p = t.mutablePointer()
                for i in 0..<t.count { p[i] += offset }
            }
            return t
        }
        func linear(_ n: Int, _ k: Int) -> T5Linear {
            .prepared(engine.prepare(weight: random([n, k], scale: 1 / Float(k).squareRoot())))
        }
        let block = T5BlockWeights(
            q: linear(inner, d), k: linear(inner, d), v: linear(inner, d), o: linear(d, inner),
            wi0: linear(ff, d), wi1: linear(ff, d), wo: linear(d, ff),
            attentionNorm: random([d], scale: 0.1, offset: 1), feedForwardNorm: random([d], scale: 0.1, offset: 1))
        let embedding = random([config.vocabSize, d], scale: 1)
        let stored = T5Embedding(tensor: embedding)
        let weights = T5LoadedWeights(
            embedding: stored, blocks: Array(repeating: block, count: config.numLayers),
            relativeBias: RelativePositionBias(
                table: random([config.relativeAttentionNumBuckets, config.numHeads], scale: 1),
                maxDistance: config.relativeAttentionMaxDistance),
            finalNorm: random([d], scale: 0.1, offset: 1), residency: .resident)
        return T5Encoder(
            config: config, engine: engine, weights: weights,
            identity: "t5:synthetic(\(seed))|\(engine.backend.rawValue)|\(engine.precision.rawValue)")
    }
}
