// diffusers ResnetBlock2D as the VAE decoders build it (no time embedding, dropout 0, output scale
// 1, pre-norm): y = shortcut(x) + conv2(SiLU(GN2(conv1(SiLU(GN1(x)))))), with a 1x1 conv_shortcut
// when C_in != C_out. The division by output_scale_factor 1.0 is skipped (exact).

import TensorCore

/// One VAE resnet block, C_in -> C_out, per frame.
final class ResnetBlock2D {
    let norm1: GroupNorm
    let conv1: Conv2D
    let norm2: GroupNorm
    let conv2: Conv2D
    let shortcut: Conv2D?

    init(norm1: GroupNorm, conv1: Conv2D, norm2: GroupNorm, conv2: Conv2D, shortcut: Conv2D?) {
        precondition(conv1.inChannels == norm1.channels && conv2.inChannels == norm2.channels, "resnet widths")
        precondition(
            shortcut != nil || conv1.inChannels == conv2.outChannels, "resnet needs a shortcut to change width")
        self.norm1 = norm1
        self.conv1 = conv1
        self.norm2 = norm2
        self.conv2 = conv2
        self.shortcut = shortcut
    }

    var inChannels: Int { conv1.inChannels }
    var outChannels: Int { conv2.outChannels }

    /// The block's output. Consumes `x`: without a shortcut conv the result is accumulated into
    /// x's own buffer and x is returned; with one, x's buffer holds SiLU(GN1(x)) once the shortcut
    /// has read it, so at most three maps are alive at once.
    func callAsFunction(_ x: FeatureMap) -> FeatureMap {
        let out: FeatureMap, h: FeatureMap
        if let shortcut {
            out = shortcut(x)
            norm1.apply(x, into: x, silu: true)
            h = conv1(x)
        } else {
            out = x
            let a = x.sibling()
            norm1.apply(x, into: a, silu: true)
            h = conv1(a)
        }
        norm2.apply(h, into: h, silu: true)
        conv2.apply(h, into: out, accumulate: true)
        return out
    }
}
