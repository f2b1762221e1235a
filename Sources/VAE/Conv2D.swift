// 2-D convolution (stride 1, zero padding k/2, with bias) on `FeatureMap`s.
// - 3x3 kernels on maps with even sizes and channel counts divisible by 16 (every large layer of
//   the VAEs) run as Winograd F(2x2, 3x3) (`WinogradConv3x3`): 2.25x fewer multiply-adds.
// - Otherwise, GEMMs over bands of output rows with no im2col: thanks to the input's zero border,
//   the inputs of tap (dy, dx) for a run of output pixels are the same run of input pixels shifted
//   by dy·(W+2)+dx, so each tap is one GEMM (K = C_in) reading the input in place, accumulated into
//   the output. A band covers M = rows·(W+2) padded pixels; the two border columns receive garbage
//   and are zeroed afterwards. No scratch memory.

import Foundation
import TensorCore

/// A Conv2d layer (weight [C_out, C_in, k, k], k = 1 or 3) with weights prepared for one engine.
final class Conv2D {
    let inChannels: Int
    let outChannels: Int
    let kernel: Int
    /// The layer's weight [C_out, C_in, k, k] (often borrowed from the memory-mapped checkpoint).
    private let weight: Tensor
    /// (dy, dx, W_tap (C_out, C_in)) per tap; prepared on first use when Winograd is available.
    private var directTaps: [(dy: Int, dx: Int, weight: PreparedWeight)]?
    private let lock = NSLock()
    private let bias: Tensor
    private let engine: GEMMEngine
    /// The F(2x2, 3x3) path, for maps with even sizes.
    private let winograd: WinogradConv3x3?

    /// Output pixels per GEMM band, rounded to whole rows.
    static let bandPixels = 2048

    /// weight: [C_out, C_in, k, k]; bias: [C_out]. `winograd: false` forces the direct path.
    init(weight: Tensor, bias: Tensor, engine: GEMMEngine, winograd: Bool = true) {
        precondition(weight.rank == 4 && weight.shape[2] == weight.shape[3], "conv weight \(weight.shape)")
        let (co, ci, k) = (weight.shape[0], weight.shape[1], weight.shape[2])
        precondition(k == 1 || k == 3, "only 1x1 and 3x3 convolutions are supported, got \(k)x\(k)")
        precondition(bias.shape == [co], "conv bias \(bias.shape) for \(co) outputs")
        inChannels = ci
        outChannels = co
        kernel = k
        self.bias = bias
        self.engine = engine
        let fast = winograd && k == 3 && WinogradConv3x3.supports(inChannels: ci, outChannels: co)
        self.winograd = fast ? WinogradConv3x3(weight: weight, bias: bias, engine: engine) : nil
        self.weight = weight
        if !fast { directTaps = Self.prepareTaps(weight, engine: engine) }
    }

    /// One (C_out, C_in) GEMM weight per kernel tap.
    private static func prepareTaps(_ weight: Tensor, engine: GEMMEngine) -> [(
        dy: Int, dx: Int, weight: PreparedWeight
    )] {
        let (co, ci, k) = (weight.shape[0], weight.shape[1], weight.shape[2])
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
        return taps
    }

    /// The direct path's taps, prepared once.
    private var taps: [(dy: Int, dx: Int, weight: PreparedWeight)] {
        lock.lock()
        defer { lock.unlock() }
        if let directTaps { return directTaps }
        let t = Self.prepareTaps(weight, engine: engine)
        directTaps = t
        return t
    }

    /// output = conv(input), or output += conv(input) when `accumulate`. Same H and W.
    func apply(_ input: FeatureMap, into output: FeatureMap, accumulate: Bool = false) {
        precondition(input.channels == inChannels && output.channels == outChannels, "conv channels")
        precondition(input.height == output.height && input.width == output.width, "conv sizes")
        if let winograd, input.height % 2 == 0, input.width % 2 == 0 {
            winograd.apply(input, into: output, accumulate: accumulate)
            return
        }
        let rp = input.rowPixels, h = input.height
        let bandRows = max(1, Self.bandPixels / rp)
        let taps = self.taps
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
