// diffusers SpatioTemporalResBlock (the SVD decoder's resnet), run over the frames of one decode
// call's video (spec vae-temporal-decoder.md §5):
//   s = ResnetBlock2D(x)                                  per frame (eps 1e-6)
//   c1 = TConv1(SiLU(TGN1(s))); c2 = TConv2(SiLU(TGN2(c1)))  TGN: GroupNorm(32, eps 1e-5) over all frames
//   out = (1 − σ)·s + σ·(s + c2) = s + σ·c2,  σ = sigmoid(time_mixer.mix_factor)
// σ is folded into TConv2's weights and bias, so c2 accumulates straight into s. Memory: the
// video's s and c1 at the block width plus a three-frame window of normalised maps.

import Foundation
import TensorCore

/// The frames of one video at some stage; `take` hands a frame over (the queue forgets it).
final class FrameQueue {
    private var maps: [FeatureMap?]
    init(_ maps: [FeatureMap]) { self.maps = maps }
    /// The frames not yet taken.
    var all: [FeatureMap] { maps.compactMap { $0 } }
    func take(_ f: Int) -> FeatureMap {
        guard let m = maps[f] else { preconditionFailure("frame \(f) taken twice") }
        maps[f] = nil
        return m
    }
}

/// One spatio-temporal resnet block.
final class SpatioTemporalResBlock {
    let spatial: ResnetBlock2D
    let norm1: GroupNorm
    let conv1: TemporalConv
    let norm2: GroupNorm
    /// TConv2 with weights and bias multiplied by σ.
    let conv2: TemporalConv
    /// sigmoid(mix_factor): the weight of the temporal branch.
    let sigma: Float

    init(
        spatial: ResnetBlock2D, norm1: GroupNorm, conv1: TemporalConv, norm2: GroupNorm, conv2: TemporalConv,
        sigma: Float
    ) {
        self.spatial = spatial
        self.norm1 = norm1
        self.conv1 = conv1
        self.norm2 = norm2
        self.conv2 = conv2
        self.sigma = sigma
    }

    /// The block's output for every frame. `input(f)` produces (or hands over) frame f's input;
    /// it is called once per frame, in order. `observe(part, f, map)` sees the spatial output,
    /// the temporal block output and the mixed output, if given.
    func callAsFunction(
        frames: Int, input: (Int) -> FeatureMap, observe: ((String, Int, FeatureMap) -> Void)? = nil
    ) -> [FeatureMap] {
        let s = (0..<frames).map { f in
            let m = spatial(input(f))
            observe?("spatial_res_block", f, m)
            return m
        }
        let c1 = FrameQueue(Self.temporalConv(conv1, norm: norm1, over: s))
        let k2 = norm2.coefficients(over: c1.all)
        var window: [Int: FeatureMap] = [:]
        for f in 0..<frames {
            // b = SiLU(TGN2(c1)), in place, for frames f−1 … f+1.
            for g in max(f - 1, 0)...min(f + 1, frames - 1) where window[g] == nil {
                let c = c1.take(g)
                GroupNorm.apply(k2, c, into: c, silu: true)
                window[g] = c
            }
            window[f - 2] = nil
            guard let current = window[f] else { continue }
            if let observe {
                let delta = s[f].sibling()
                conv2.apply(previous: window[f - 1], current: current, next: window[f + 1], into: delta)
                let t = Self.combine(s[f], delta, scale: 1 / sigma)
                observe("temporal_res_block", f, t)
                s[f].add(delta)
                observe("time_mixer", f, s[f])
            } else {
                conv2.apply(
                    previous: window[f - 1], current: current, next: window[f + 1], into: s[f], accumulate: true)
            }
        }
        return s
    }

    /// TConv(SiLU(TGN(x))) for every frame, with a three-frame window of normalised inputs.
    static func temporalConv(_ conv: TemporalConv, norm: GroupNorm, over x: [FeatureMap]) -> [FeatureMap] {
        let k = norm.coefficients(over: x)
        var window: [Int: FeatureMap] = [:]
        var out: [FeatureMap] = []
        for f in 0..<x.count {
            for g in max(f - 1, 0)...min(f + 1, x.count - 1) where window[g] == nil {
                let a = x[g].sibling()
                GroupNorm.apply(k, x[g], into: a, silu: true)
                window[g] = a
            }
            window[f - 2] = nil
            guard let current = window[f] else { continue }
            let c = x[f].sibling(channels: conv.outChannels)
            conv.apply(previous: window[f - 1], current: current, next: window[f + 1], into: c)
            out.append(c)
        }
        return out
    }

    /// a + scale · b as a new map (observation only).
    static func combine(_ a: FeatureMap, _ b: FeatureMap, scale: Float) -> FeatureMap {
        let out = a.sibling()
        let n = a.width * a.channels
        for y in 0..<a.height {
            let pa = a.pixel(y, 0), pb = b.pixel(y, 0), po = out.pixel(y, 0)
            for i in 0..<n { po[i] = pa[i] + scale * pb[i] }
        }
        return out
    }
}
