// Temporal convolution of the SVD temporal VAE decoder: Conv3d with kernel (3, 1, 1), zero padding
// of one frame at each end, bias. For frame f: out[f] = bias + W₀·in[f−1] + W₁·in[f] + W₂·in[f+1]
// (tap 0 reads the previous frame; cross-correlation, no flip). Each tap is a 1x1 convolution, i.e.
// a GEMM (C_out, C_in) · (C_in, H·W). Video layout is frame-major (F, C, H, W).

/// Temporal (3, 1, 1) convolution kernels.
public enum TemporalConv {
    /// Repacks a Conv3d weight (C_out, C_in, 3, 1, 1) (or (C_out, C_in, 3)) into (3, C_out, C_in),
    /// one contiguous matrix per tap. Do this once at load time.
    public static func packWeight(_ w: Tensor) -> Tensor {
        precondition(
            (w.rank == 5 && w.shape[2] == 3 && w.shape[3] == 1 && w.shape[4] == 1) || (w.rank == 3 && w.shape[2] == 3),
            "packWeight: weight \(w.shape) must be (C_out, C_in, 3, 1, 1)")
        let co = w.shape[0], ci = w.shape[1]
        var packed = Tensor(zeros: [3, co, ci])
        let pp = packed.mutablePointer()
        w.withUnsafeBufferPointer { src in
            for o in 0..<co {
                for c in 0..<ci {
                    for k in 0..<3 { pp[(k * co + o) * ci + c] = src[(o * ci + c) * 3 + k] }
                }
            }
        }
        return packed
    }

    /// One video x (F, C_in, H, W) → (F, C_out, H, W) with weight (C_out, C_in, 3, 1, 1), bias (C_out).
    public static func forward(_ x: Tensor, weight: Tensor, bias: Tensor?, engine: GEMMEngine) -> Tensor {
        precondition(x.rank >= 2, "temporal conv: x \(x.shape) must be (F, C, ...)")
        let packed = packWeight(weight)
        let frames = x.shape[0], ci = x.shape[1], co = packed.shape[1]
        precondition(packed.shape[2] == ci, "temporal conv: weight \(weight.shape) does not take \(ci) channels")
        precondition(
            bias.map { $0.count == co } ?? true, "temporal conv: bias \(bias?.shape ?? []) must have \(co) values")
        let spatial = x.shape.dropFirst(2).reduce(1, *)
        var y = Tensor(zeros: [frames, co] + Array(x.shape.dropFirst(2)))
        let yp = y.mutablePointer()
        withExtendedLifetime((x, packed, bias)) {
            let xp = x.pointer
            let frameIn = ci * spatial
            for f in 0..<frames {
                frame(
                    previous: f > 0 ? xp + (f - 1) * frameIn : nil, current: xp + f * frameIn,
                    next: f + 1 < frames ? xp + (f + 1) * frameIn : nil,
                    inChannels: ci, outChannels: co, spatial: spatial, packedWeight: packed.pointer,
                    bias: bias?.pointer, into: yp + f * co * spatial, engine: engine)
            }
        }
        return y
    }

    /// One output frame y (C_out, S) = bias + W₀·previous + W₁·current + W₂·next, each input
    /// (C_in, S); nil neighbours are the zero padding. packedWeight is (3, C_out, C_in).
    public static func frame(
        previous: UnsafePointer<Float>?, current: UnsafePointer<Float>, next: UnsafePointer<Float>?,
        inChannels ci: Int, outChannels co: Int, spatial: Int, packedWeight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>, engine: GEMMEngine
    ) {
        var beta: Float = 0
        if let bias {
            Conv2D.fillBias(bias, channels: co, columns: 0..<spatial, plane: spatial, into: y, add: false)
            beta = 1
        }
        for (tap, input) in [previous, current, next].enumerated() {
            guard let input else { continue }
            engine.gemm(
                transA: false, transB: false, m: co, n: spatial, k: ci, alpha: 1,
                a: packedWeight + tap * co * ci, lda: ci, b: input, ldb: spatial, beta: beta, c: y, ldc: spatial)
            beta = 1
        }
        if beta == 0 { y.update(repeating: 0, count: co * spatial) }
    }
}
