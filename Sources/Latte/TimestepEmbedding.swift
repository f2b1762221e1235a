// Sinusoidal features, as the official code computes them:
// - timestep features (TimestepEmbedder.timestep_embedding): 256-d, [cos | sin], max period 1e4,
//   evaluated in float32 exactly like PyTorch (float32 frequency table, float32 product);
// - fixed 2-D and 1-D sin-cos position tables (get_2d_sincos_pos_embed / get_1d_sincos_temp_embed),
//   in float64 then stored as float32 (the checkpoints carry these tables; this is for checks).

import Foundation
import TensorCore

public enum SinusoidalFeatures {
    /// torch.exp(-math.log(10000) * arange(0, half, float32) / half) in float32 for half = 128.
    /// Two of the 128 entries differ by one ulp from a correctly rounded expf; this table is
    /// torch's (the fixtures carry it as timestep_freqs_f32.npy and the tests compare).
    public static func frequencies(half: Int) -> [Float] {
        let minusLog = Float(-Foundation.log(10000.0))
        return (0..<half).map { k in
            // float32(-ln 1e4) * float32(k) in float32, then / half in float32, then exp.
            let arg = minusLog * Float(k) / Float(half)
            return Self.torchExpCorrections[half]?[k] ?? Foundation.expf(arg)
        }
    }

    /// Entries where PyTorch's vectorised exp differs from glibc's expf by one ulp, found by
    /// comparing with the official table (timestep_freqs_f32.npy; Tests/LatteTests checks all 128).
    static let torchExpCorrections: [Int: [Int: Float]] = [
        128: [12: Float(bitPattern: 1_054_337_179), 106: Float(bitPattern: 973_033_389)]
    ]

    /// Timestep features (B, dim): [cos(t·f), sin(t·f)] with float32 t·f.
    public static func timestep(_ t: [Int], dim: Int = 256, frequencies freqs: [Float]? = nil) -> Tensor {
        precondition(dim % 2 == 0, "odd timestep feature size \(dim) is not used by Latte")
        let half = dim / 2
        let f = freqs ?? frequencies(half: half)
        precondition(f.count == half, "need \(half) frequencies")
        var out = Tensor(zeros: [t.count, dim])
        let p = out.mutablePointer()
        for (b, tv) in t.enumerated() {
            let tf = Float(tv)
            for k in 0..<half {
                let arg = tf * f[k]
                p[b * dim + k] = Foundation.cos(arg)
                p[b * dim + half + k] = Foundation.sin(arg)
            }
        }
        return out
    }
}
