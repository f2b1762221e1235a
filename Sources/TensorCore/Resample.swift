// Nearest-neighbour ×2 upsampling: out[c, y, x] = in[c, y/2, x/2] (each pixel becomes a 2x2 block).
// (Conv2D can also fuse this into its im2col via `upsample: 2`.)

/// Resampling kernels.
public enum Resample {
    /// x (..., H, W) → (..., 2H, 2W), nearest neighbour.
    public static func nearest2x(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 2, "nearest2x: x \(x.shape) must be (..., H, W)")
        let h = x.shape[x.rank - 2], w = x.shape[x.rank - 1]
        var shape = x.shape
        shape[x.rank - 2] = 2 * h
        shape[x.rank - 1] = 2 * w
        var y = Tensor(zeros: shape)
        let yp = y.mutablePointer()
        withExtendedLifetime(x) { nearest2x(x.pointer, planes: x.count / max(h * w, 1), height: h, width: w, into: yp) }
        return y
    }

    /// y (planes, 2H, 2W) = nearest ×2 of x (planes, H, W).
    public static func nearest2x(
        _ x: UnsafePointer<Float>, planes: Int, height h: Int, width w: Int, into y: UnsafeMutablePointer<Float>
    ) {
        Parallel.forRange(planes * h, grain: max(1, 4096 / max(w, 1))) { range in
            for line in range {
                let src = x + line * w
                let dst = y + line * 4 * w  // input row (p, r) → output rows 2r and 2r+1 of plane p
                var i = 0
                while i + 8 <= w {
                    let v = load8(src + i)
                    let lo = SIMD16<Float>(
                        v[0], v[0], v[1], v[1], v[2], v[2], v[3], v[3],
                        v[4], v[4], v[5], v[5], v[6], v[6], v[7], v[7])
                    store16(lo, dst + 2 * i)
                    i += 8
                }
                while i < w { dst[2 * i] = src[i]; dst[2 * i + 1] = src[i]; i += 1 }
                (dst + 2 * w).update(from: dst, count: 2 * w)
            }
        }
    }
}
