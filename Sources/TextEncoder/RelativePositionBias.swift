// T5's bidirectional relative-position buckets and the attention bias built from them
// (transformers T5Attention._relative_position_bucket / compute_bias). The bias lives only in
// block 0 and is added to the scores of every block.

import Foundation
import TensorCore

/// Maps key−query offsets to buckets and buckets to a per-head additive attention bias.
public struct RelativePositionBias: Sendable {
    /// Total buckets (half for keys after the query, half for keys before or at it).
    public let numBuckets: Int
    /// Offsets from this distance on share the last bucket.
    public let maxDistance: Int
    /// The learned table (numBuckets, heads).
    public let table: Tensor

    public init(table: Tensor, maxDistance: Int) {
        precondition(
            table.rank == 2 && table.shape[0] >= 4 && table.shape[0] % 2 == 0,
            "relative bias table \(table.shape) must be (buckets, heads)")
        self.numBuckets = table.shape[0]
        self.maxDistance = maxDistance
        self.table = table
    }

    /// Bucket of `delta` = key position − query position. Offsets below half of a direction's
    /// buckets map to themselves; larger ones logarithmically up to maxDistance, computed in
    /// float32 as torch does; keys after the query use the upper half.
    public static func bucket(_ delta: Int, numBuckets: Int, maxDistance: Int) -> Int {
        let half = numBuckets / 2
        let base = delta > 0 ? half : 0
        let distance = abs(delta)
        let maxExact = half / 2
        if distance < maxExact { return base + distance }
        let ratio = Float(distance) / Float(maxExact)
        let scale = Float(log(Double(maxDistance) / Double(maxExact)))
        let large = maxExact + Int(log(ratio) / scale * Float(half - maxExact))
        return base + min(large, half - 1)
    }

    /// bias[h, q, k] = table[bucket(k − q), h] for `length` positions → (heads, L, L).
    public func bias(length: Int) -> Tensor {
        let heads = table.shape[1]
        var out = Tensor(zeros: [heads, length, length])
        let o = out.mutablePointer()
        withExtendedLifetime(table) {
            let t = table.pointer
            for q in 0..<length {
                for k in 0..<length {
                    let b = Self.bucket(k - q, numBuckets: numBuckets, maxDistance: maxDistance)
                    for h in 0..<heads { o[(h * length + q) * length + k] = t[b * heads + h] }
                }
            }
        }
        return out
    }
}
