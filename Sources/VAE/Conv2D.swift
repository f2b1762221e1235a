// 2-D convolution (stride 1, zero padding k/2, with bias) on `FeatureMap`s as GEMMs over bands of
// output rows. The input's zero border makes every tap (dy, dx) of a 3x3 kernel one GEMM reading
// the input buffer shifted by dy·(W+2)+dx pixels: out[band] (+)= in[band + shift] · W_tapᵀ, with
// M = band rows·(W+2) pixels, K = C_in, N = C_out, and no im2col copy. The two border columns of
// each band receive garbage and are zeroed afterwards. Scratch memory: none.

import TensorCore

/// A Conv2d layer (weight [C_out, C_in, k, k], k = 1 or 3) with weights prepared for one engine.
final class Conv2D {
    let inChannels: Int
    let outChannels: Int
    let kernel: Int
    /// (dy, dx, W_tap (C_out, C_in)) per tap.
    private let taps: [(dy: Int, dx: Int, weight: PreparedWeight)]
    private let bias: Tensor
    private let engine: GEMMEngine

    /// Output pixels per GEMM band, rounded to whole rows (bounded so the band's output stays in cache).
    static let bandPixels = 2048

    /// weight: [C_out, C_in, k, k]; bias: [C_out].
    init(weight: Tensor, bias: Tensor, engine: GEMMEngine) {
        precondition(weight.rank == 4 && weight.shape[2] == weight.shape[3], "conv weight \(weight.shape)")
        let (co, ci, k) = (weight.shape[0], weight.shape[1], weight.shape[2])
        precondition(k == 1 || k == 3, "only 1x1 and 3x3 convolutions are supported, got \(k)x\(k)")
        precondition(bias.shape == [co], "conv bias \(bias.shape) for \(co) outputs")
        inChannels = ci
        outChannels = co
        kernel = k
        self.bias = bias
        self.engine = engine
        var taps: [(Int, Int, PreparedWeight)] = []
        let w = weight.pointer
        for ky in 0..<k {
            for kx in 0..<k {
                var tap = Tensor(zeros: [co, ci])
                let t = tap.mutablePointer()
                for o in 0..<co { for i in 0..<ci { t[o * ci + i] = w[((o * ci + i) * k + ky) * k + kx] } }
                taps.append((ky - k / 2, kx - k / 2, engine.prepare(weight: tap)))
            }
        }
        self.taps = taps
    }

    /// output = conv(input), or output += conv(input) when `accumulate`. Same H and W.
    func apply(_ input: FeatureMap, into output: FeatureMap, accumulate: Bool = false) {
        precondition(input.channels == inChannels && output.channels == outChannels, "conv channels")
        precondition(input.height == output.height && input.width == output.width, "conv sizes")
        let rp = input.rowPixels, h = input.height
        let bandRows = max(1, Self.bandPixels / rp)
        withExtendedLifetime(bias) {
            var y0 = 0
            while y0 < h {
                let y1 = min(h, y0 + bandRows)
                let q0 = (y0 + 1) * rp, m = (y1 - y0) * rp
                let out = output.origin + q0 * outChannels
                for (t, tap) in taps.enumerated() {
                    let a = input.origin + (q0 + tap.dy * rp + tap.dx) * inChannels
                    engine.linear(
                        a, rows: m, weight: tap.weight, bias: t == 0 ? bias.pointer : nil, into: out,
                        accumulate: accumulate || t > 0)
                }
                output.zeroBorderColumns(rows: y0..<y1)
                y0 = y1
            }
        }
    }

    /// conv(input) into a new map from the input's pool.
    func callAsFunction(_ input: FeatureMap) -> FeatureMap {
        let out = input.sibling(channels: outChannels)
        apply(input, into: out)
        return out
    }
}
