// The temporal convolution of the SVD decoder: Conv3d with kernel (3, 1, 1), padding (1, 0, 0)
// and bias, applied to the frames of one video. Output frame f is three 1x1 convolutions of frames
// f−1, f, f+1 (tap 0 = previous frame, no flip); frames outside the video are zeros, so their taps
// are skipped. Each tap is one GEMM over a band of padded pixels.

import TensorCore

/// Conv3d (3, 1, 1) over time, C_in -> C_out, with weights optionally pre-scaled.
final class TemporalConv {
    let inChannels: Int
    let outChannels: Int
    /// W_k (C_out, C_in) for k = 0 (previous frame), 1 (current), 2 (next).
    private let taps: [PreparedWeight]
    private let bias: Tensor
    private let engine: GEMMEngine

    /// weight: [C_out, C_in, 3, 1, 1]; bias: [C_out]; `scale` multiplies both (folds a mixing factor in).
    init(weight: Tensor, bias: Tensor, scale: Float = 1, engine: GEMMEngine) {
        precondition(
            weight.rank == 5 && Array(weight.shape[2...]) == [3, 1, 1], "temporal conv weight \(weight.shape)")
        let (co, ci) = (weight.shape[0], weight.shape[1])
        precondition(bias.shape == [co], "temporal conv bias \(bias.shape)")
        inChannels = ci
        outChannels = co
        let w = weight.pointer
        taps = (0..<3).map { k in
            var tap = Tensor(zeros: [co, ci])
            let t = tap.mutablePointer()
            for o in 0..<co { for i in 0..<ci { t[o * ci + i] = w[(o * ci + i) * 3 + k] * scale } }
            return engine.prepare(weight: tap)
        }
        self.bias = Tensor(shape: [co], values: bias.scalars.map { $0 * scale })
        self.engine = engine
    }

    /// out = conv(prev, current, next) (+ out when `accumulate`); nil neighbours are the zero padding.
    func apply(
        previous: FeatureMap?, current: FeatureMap, next: FeatureMap?, into out: FeatureMap, accumulate: Bool = false
    ) {
        let inputs = [previous, current, next]
        for m in inputs.compactMap({ $0 }) + [out] {
            precondition(m.height == current.height && m.width == current.width, "temporal conv frame sizes")
        }
        precondition(current.channels == inChannels && out.channels == outChannels, "temporal conv channels")
        let total = current.paddedPixels
        let band = max(current.rowPixels, Conv2D.bandPixels / current.rowPixels * current.rowPixels)
        withExtendedLifetime(bias) {
            var q0 = 0
            while q0 < total {
                let m = min(band, total - q0)
                var first = true
                for (k, input) in inputs.enumerated() {
                    guard let input else { continue }
                    engine.linear(
                        input.origin + q0 * inChannels, rows: m, weight: taps[k], bias: first ? bias.pointer : nil,
                        into: out.origin + q0 * outChannels, accumulate: accumulate || !first)
                    first = false
                }
                q0 += m
            }
        }
        out.zeroBorder()
    }
}
