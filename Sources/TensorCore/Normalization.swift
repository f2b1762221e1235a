// Row normalisations over the last dimension: LayerNorm (biased variance, optional affine),
// LayerNorm fused with adaLN modulation x̂·(1+scale)+shift, and T5's RMSNorm. (The VAE's
// channel-last GroupNorm lives in the VAE module, next to its convolutions.)

/// Normalisation kernels. Pointer variants may run in place (x == y).
public enum Norm {
    // MARK: Tensor level

    /// LayerNorm of x (..., D) over D: (x − mean)/√(var + eps) [· weight + bias], biased variance.
    public static func layerNorm(_ x: Tensor, weight: Tensor? = nil, bias: Tensor? = nil, eps: Float) -> Tensor {
        let d = x.shape.last ?? 1
        precondition(
            weight.map { $0.count == d } ?? true, "layerNorm: weight \(weight?.shape ?? []) must have \(d) values")
        precondition(bias.map { $0.count == d } ?? true, "layerNorm: bias \(bias?.shape ?? []) must have \(d) values")
        var y = Tensor(zeros: x.shape)
        let yp = y.mutablePointer()
        withExtendedLifetime((x, weight, bias)) {
            layerNorm(
                x.pointer, rows: x.count / max(d, 1), dim: d, weight: weight?.pointer, bias: bias?.pointer,
                eps: eps, into: yp)
        }
        return y
    }

    /// adaLN: LN(x)·(1 + scale[g]) + shift[g] for x (R, N, D), shift/scale (G, D), G dividing R;
    /// row r uses conditioning row r / (R/G). LN has no affine parameters.
    public static func layerNormModulated(_ x: Tensor, shift: Tensor, scale: Tensor, eps: Float) -> Tensor {
        precondition(x.rank == 3, "layerNormModulated: x \(x.shape) must be (R, N, D)")
        let r = x.shape[0], n = x.shape[1], d = x.shape[2]
        precondition(
            shift.shape == scale.shape && shift.rank == 2 && shift.shape[1] == d
                && shift.shape[0] > 0 && r % shift.shape[0] == 0,
            "layerNormModulated: shift \(shift.shape) / scale \(scale.shape) must be (G, \(d)) with G dividing \(r)")
        var y = Tensor(zeros: x.shape)
        let yp = y.mutablePointer()
        withExtendedLifetime((x, shift, scale)) {
            layerNormModulated(
                x.pointer, rows: r, tokens: n, dim: d, shift: shift.pointer, scale: scale.pointer,
                condRowStride: d, rowsPerCond: r / shift.shape[0], eps: eps, into: yp)
        }
        return y
    }

    /// T5 RMSNorm of x (..., D): x / √(mean(x²) + eps) [· weight], no mean subtraction.
    public static func rmsNorm(_ x: Tensor, weight: Tensor?, eps: Float) -> Tensor {
        let d = x.shape.last ?? 1
        precondition(
            weight.map { $0.count == d } ?? true, "rmsNorm: weight \(weight?.shape ?? []) must have \(d) values")
        var y = Tensor(zeros: x.shape)
        let yp = y.mutablePointer()
        withExtendedLifetime((x, weight)) {
            rmsNorm(x.pointer, rows: x.count / max(d, 1), dim: d, weight: weight?.pointer, eps: eps, into: yp)
        }
        return y
    }

    // MARK: Pointer level

    /// LayerNorm of `rows` contiguous rows of length `dim`; weight/bias (dim) optional.
    public static func layerNorm(
        _ x: UnsafePointer<Float>, rows: Int, dim: Int, weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?,
        eps: Float, into y: UnsafeMutablePointer<Float>
    ) {
        Parallel.forRange(rows, grain: rowGrain(dim)) { range in
            for r in range {
                let xs = x + r * dim, ys = y + r * dim
                let (mean, rstd) = meanInvStd(xs, dim, eps)
                normalizeRow(xs, ys, dim, mean, rstd, weight, bias)
            }
        }
    }

    /// adaLN on (rows, tokens, dim): y = LN(x)·(1 + scale_g) + shift_g, where g = r / rowsPerCond
    /// and the conditioning rows sit at `shift + g·condRowStride`, `scale + g·condRowStride`.
    public static func layerNormModulated(
        _ x: UnsafePointer<Float>, rows: Int, tokens: Int, dim: Int,
        shift: UnsafePointer<Float>, scale: UnsafePointer<Float>, condRowStride: Int, rowsPerCond: Int = 1,
        eps: Float, into y: UnsafeMutablePointer<Float>
    ) {
        precondition(rowsPerCond >= 1, "rowsPerCond must be >= 1")
        Parallel.forRange(rows * tokens, grain: rowGrain(dim)) { range in
            for line in range {
                let g = line / tokens / rowsPerCond
                let sh = shift + g * condRowStride, sc = scale + g * condRowStride
                let xs = x + line * dim, ys = y + line * dim
                let (mean, rstd) = meanInvStd(xs, dim, eps)
                var i = 0
                while i + vectorWidth <= dim {
                    let v = (load16(xs + i) - mean) * rstd
                    store16(v * (load16(sc + i) + 1) + load16(sh + i), ys + i)
                    i += vectorWidth
                }
                while i < dim {
                    ys[i] = (xs[i] - mean) * rstd * (sc[i] + 1) + sh[i]
                    i += 1
                }
            }
        }
    }

    /// RMSNorm of `rows` contiguous rows: y = (x · 1/√(mean(x²) + eps)) [· weight].
    public static func rmsNorm(
        _ x: UnsafePointer<Float>, rows: Int, dim: Int, weight: UnsafePointer<Float>?, eps: Float,
        into y: UnsafeMutablePointer<Float>
    ) {
        Parallel.forRange(rows, grain: rowGrain(dim)) { range in
            for r in range {
                let xs = x + r * dim, ys = y + r * dim
                var acc = SIMD16<Float>()
                var i = 0
                while i + vectorWidth <= dim { let v = load16(xs + i); acc += v * v; i += vectorWidth }
                var ss = acc.sum()
                while i < dim { ss += xs[i] * xs[i]; i += 1 }
                let rs = 1 / (ss / Float(dim) + eps).squareRoot()
                i = 0
                if let w = weight {
                    while i + vectorWidth <= dim {
                        store16(load16(xs + i) * rs * load16(w + i), ys + i); i += vectorWidth
                    }
                    while i < dim { ys[i] = xs[i] * rs * w[i]; i += 1 }
                } else {
                    while i + vectorWidth <= dim { store16(load16(xs + i) * rs, ys + i); i += vectorWidth }
                    while i < dim { ys[i] = xs[i] * rs; i += 1 }
                }
            }
        }
    }

    // MARK: Internals

    @inline(__always)
    static func rowGrain(_ dim: Int) -> Int { max(1, 16384 / max(dim, 1)) }

    /// Mean and 1/√(biased var + eps) of one row (two passes, float SIMD accumulation).
    @inline(__always)
    static func meanInvStd(_ xs: UnsafePointer<Float>, _ d: Int, _ eps: Float) -> (Float, Float) {
        var acc = SIMD16<Float>()
        var i = 0
        while i + vectorWidth <= d { acc += load16(xs + i); i += vectorWidth }
        var s = acc.sum()
        while i < d { s += xs[i]; i += 1 }
        let mean = s / Float(d)
        var acc2 = SIMD16<Float>()
        i = 0
        while i + vectorWidth <= d { let c = load16(xs + i) - mean; acc2 += c * c; i += vectorWidth }
        var v = acc2.sum()
        while i < d { let c = xs[i] - mean; v += c * c; i += 1 }
        return (mean, 1 / (v / Float(d) + eps).squareRoot())
    }

    /// ys = (xs − mean)·rstd [· w + b].
    @inline(__always)
    static func normalizeRow(
        _ xs: UnsafePointer<Float>, _ ys: UnsafeMutablePointer<Float>, _ d: Int, _ mean: Float, _ rstd: Float,
        _ weight: UnsafePointer<Float>?, _ bias: UnsafePointer<Float>?
    ) {
        var i = 0
        switch (weight, bias) {
        case let (w?, b?):
            while i + vectorWidth <= d {
                store16((load16(xs + i) - mean) * rstd * load16(w + i) + load16(b + i), ys + i)
                i += vectorWidth
            }
            while i < d { ys[i] = (xs[i] - mean) * rstd * w[i] + b[i]; i += 1 }
        case let (w?, nil):
            while i + vectorWidth <= d {
                store16((load16(xs + i) - mean) * rstd * load16(w + i), ys + i); i += vectorWidth
            }
            while i < d { ys[i] = (xs[i] - mean) * rstd * w[i]; i += 1 }
        case let (nil, b?):
            while i + vectorWidth <= d {
                store16((load16(xs + i) - mean) * rstd + load16(b + i), ys + i); i += vectorWidth
            }
            while i < d { ys[i] = (xs[i] - mean) * rstd + b[i]; i += 1 }
        case (nil, nil):
            while i + vectorWidth <= d { store16((load16(xs + i) - mean) * rstd, ys + i); i += vectorWidth }
            while i < d { ys[i] = (xs[i] - mean) * rstd; i += 1 }
        }
    }
}
