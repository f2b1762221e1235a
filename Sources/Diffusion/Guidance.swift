// Classifier-free guidance as the official forward_with_cfg combines the two halves of one
// batched forward: guided eps = uncond + s·(cond − uncond) on the first `guidedChannels`
// channels only; the remaining (variance) channels keep each half's own values.
//
// Shapes: out (2B, F, C', H, W) with rows [0, B) conditional and [B, 2B) unconditional.

import TensorCore

public enum ClassifierFreeGuidance {
    /// The official combination, returning (2B, F, C', H, W) with the guided eps in both halves.
    public static func combine(_ out: Tensor, scale: Float, guidedChannels: Int = 4) -> Tensor {
        precondition(out.rank == 5 && out.shape[0] % 2 == 0, "CFG output must be (2B, F, C, H, W), got \(out.shape)")
        let half = out.shape[0] / 2, f = out.shape[1], c = out.shape[2], hw = out.shape[3] * out.shape[4]
        precondition(guidedChannels <= c, "cannot guide \(guidedChannels) of \(c) channels")
        var result = out.copy()
        let r = result.mutablePointer()
        let o = out.pointer
        withExtendedLifetime(out) {
            for b in 0..<half {
                for fr in 0..<f {
                    let condBase = (b * f + fr) * c * hw
                    let uncondBase = ((b + half) * f + fr) * c * hw
                    for i in 0..<(guidedChannels * hw) {
                        let cond = o[condBase + i], uncond = o[uncondBase + i]
                        let g = uncond + scale * (cond - uncond)
                        r[condBase + i] = g
                        r[uncondBase + i] = g
                    }
                }
            }
        }
        return result
    }

    /// The first B rows of a doubled batch (the rows sample.py decodes).
    public static func conditionalHalf(_ t: Tensor) -> Tensor {
        precondition(t.rank >= 1 && t.shape[0] % 2 == 0, "expected a doubled batch, got \(t.shape)")
        var shape = t.shape
        shape[0] /= 2
        var half = Tensor(zeros: shape)
        half.mutablePointer().update(from: t.pointer, count: half.count)
        return withExtendedLifetime(t) { half }
    }

    /// cat([x, x]) along the batch axis: the sampler state CFG starts from.
    public static func doubled(_ x: Tensor) -> Tensor {
        var shape = x.shape
        shape[0] *= 2
        var d = Tensor(zeros: shape)
        let p = d.mutablePointer()
        p.update(from: x.pointer, count: x.count)
        (p + x.count).update(from: x.pointer, count: x.count)
        return withExtendedLifetime(x) { d }
    }

    /// The text-to-video pipeline's guidance: out (2B, C', …) with rows [uncond, cond] (negative
    /// prompt first) -> uncond + s·(cond − uncond) on every channel, (B, C', …).
    public static func guideAll(_ out: Tensor, scale: Float) -> Tensor {
        precondition(out.rank >= 1 && out.shape[0] % 2 == 0, "guidance needs a doubled batch, got \(out.shape)")
        let half = out.count / 2
        var shape = out.shape
        shape[0] /= 2
        var g = Tensor(zeros: shape)
        let gp = g.mutablePointer(), o = out.pointer
        withExtendedLifetime(out) {
            for i in 0..<half { gp[i] = o[i] + scale * (o[half + i] - o[i]) }
        }
        return g
    }

    /// Channels [0, channels) of (B, C', …) along axis 1: the eps half of a learned-sigma output.
    public static func leadingChannels(_ t: Tensor, _ channels: Int) -> Tensor {
        precondition(t.rank >= 2 && channels <= t.shape[1], "cannot take \(channels) channels of \(t.shape)")
        var shape = t.shape
        shape[1] = channels
        let inner = t.shape.dropFirst(2).reduce(1, *)
        var out = Tensor(zeros: shape)
        let o = out.mutablePointer(), src = t.pointer
        withExtendedLifetime(t) {
            for b in 0..<t.shape[0] {
                (o + b * channels * inner).update(from: src + b * t.shape[1] * inner, count: channels * inner)
            }
        }
        return out
    }
}
