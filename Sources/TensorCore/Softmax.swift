// Numerically stable softmax over the last dimension (row maximum subtracted before exp).

/// Softmax kernels. The pointer variant may run in place (x == y).
public enum Softmax {
    /// softmax of x (..., D) over D.
    public static func lastDim(_ x: Tensor) -> Tensor {
        let d = x.shape.last ?? 1
        var y = Tensor(zeros: x.shape)
        let yp = y.mutablePointer()
        withExtendedLifetime(x) { rows(x.pointer, rows: x.count / max(d, 1), dim: d, into: yp) }
        return y
    }

    /// softmax of `rows` contiguous rows of length `dim`.
    public static func rows(_ x: UnsafePointer<Float>, rows: Int, dim: Int, into y: UnsafeMutablePointer<Float>) {
        Parallel.forRange(rows, grain: max(1, 8192 / max(dim, 1))) { range in
            for r in range {
                if UnsafePointer(y + r * dim) != x + r * dim { (y + r * dim).update(from: x + r * dim, count: dim) }
                row(y + r * dim, dim)
            }
        }
    }

    /// In-place softmax of one row of n ≥ 1 values.
    @inline(__always)
    static func row(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        var mv = SIMD8<Float>(repeating: -.infinity)
        while i + 8 <= n { let v = load8(p + i); mv.replace(with: v, where: v .> mv); i += 8 }
        var m = mv.max()
        while i < n { m = Swift.max(m, p[i]); i += 1 }
        var acc = SIMD8<Float>()
        i = 0
        while i + 8 <= n {
            let e = VectorMath.exp(load8(p + i) - m)
            store8(e, p + i)
            acc += e
            i += 8
        }
        if i < n {
            var v = SIMD8<Float>(repeating: -.infinity)
            for j in i..<n { v[j - i] = p[j] - m }
            let e = VectorMath.exp(v)
            for j in i..<n { p[j] = e[j - i]; acc[j - i] += e[j - i] }
        }
        let inv = 1 / acc.sum()
        i = 0
        while i + 8 <= n { store8(load8(p + i) * inv, p + i); i += 8 }
        while i < n { p[i] *= inv; i += 1 }
    }
}
