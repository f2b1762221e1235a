// Elementwise arithmetic: numpy-broadcasting add/mul on tensors, and contiguous pointer kernels
// (in-place add/mul, scale, axpy, row-vector add, the adaLN gated residual y += gate ⊙ x).

/// Elementwise kernels. Pointer variants may alias input and output exactly (in place).
public enum Elementwise {
    // MARK: Tensor level (broadcasting)

    /// The numpy broadcast of two shapes (trailing axes aligned; size-1 axes stretch).
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            precondition(da == db || da == 1 || db == 1, "shapes \(a) and \(b) do not broadcast")
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// a + b with numpy broadcasting.
    public static func add(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, multiply: false) }

    /// a ⊙ b with numpy broadcasting.
    public static func mul(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, multiply: true) }

    /// y += x, where x broadcasts to y's shape.
    public static func addInPlace(_ y: inout Tensor, _ x: Tensor) { binaryInPlace(&y, x, multiply: false) }

    /// y ⊙= x, where x broadcasts to y's shape.
    public static func mulInPlace(_ y: inout Tensor, _ x: Tensor) { binaryInPlace(&y, x, multiply: true) }

    /// x · s.
    public static func scaled(_ x: Tensor, by s: Float) -> Tensor {
        var y = x.copy()
        let p = y.mutablePointer()
        scale(p, count: y.count, by: s)
        return y
    }

    /// y (R, N, D) += gate[r / (R/G)] ⊙ x for gate (G, D): the adaLN-Zero gated residual, where
    /// the G gate rows are repeated over consecutive blocks of R/G rows.
    public static func addGated(_ y: inout Tensor, _ x: Tensor, gate: Tensor) {
        precondition(
            y.rank == 3 && x.shape == y.shape, "addGated: y \(y.shape) and x \(x.shape) must be equal (R, N, D)")
        let r = y.shape[0], n = y.shape[1], d = y.shape[2]
        precondition(
            gate.rank == 2 && gate.shape[1] == d && gate.shape[0] > 0 && r % gate.shape[0] == 0,
            "addGated: gate \(gate.shape) must be (G, \(d)) with G dividing \(r)")
        let yp = y.mutablePointer()
        withExtendedLifetime((x, gate)) {
            addGated(
                into: yp, x.pointer, gate: gate.pointer, rows: r, tokens: n, dim: d,
                gateRowStride: d, rowsPerGate: r / gate.shape[0])
        }
    }

    // MARK: Pointer level (contiguous)

    /// y = a + b (count elements).
    public static func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
    ) {
        parallelChunks(count) { lo, hi in addRun(a + lo, 1, b + lo, 1, y + lo, hi - lo) }
    }

    /// y = a ⊙ b (count elements).
    public static func mul(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
    ) {
        parallelChunks(count) { lo, hi in mulRun(a + lo, 1, b + lo, 1, y + lo, hi - lo) }
    }

    /// y += x (count elements).
    public static func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        parallelChunks(count) { lo, hi in addRun(UnsafePointer(y + lo), 1, x + lo, 1, y + lo, hi - lo) }
    }

    /// y ⊙= x (count elements).
    public static func mulInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        parallelChunks(count) { lo, hi in mulRun(UnsafePointer(y + lo), 1, x + lo, 1, y + lo, hi - lo) }
    }

    /// y += alpha · x (count elements).
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        parallelChunks(count) { lo, hi in
            let xs = x + lo, ys = y + lo, n = hi - lo
            var i = 0
            while i + vectorWidth <= n {
                store16(load16(ys + i) + alpha * load16(xs + i), ys + i)
                i += vectorWidth
            }
            while i < n { ys[i] += alpha * xs[i]; i += 1 }
        }
    }

    /// y ·= s (count elements, in place).
    public static func scale(_ y: UnsafeMutablePointer<Float>, count: Int, by s: Float) {
        parallelChunks(count) { lo, hi in
            let ys = y + lo, n = hi - lo
            var i = 0
            while i + vectorWidth <= n { store16(load16(ys + i) * s, ys + i); i += vectorWidth }
            while i < n { ys[i] *= s; i += 1 }
        }
    }

    /// y[r, :] += v for r in 0..<rows (y is (rows, dim), v is (dim)).
    public static func addRowVector(_ y: UnsafeMutablePointer<Float>, rows: Int, dim: Int, _ v: UnsafePointer<Float>) {
        Parallel.forRange(rows, grain: max(1, 32768 / max(dim, 1))) { range in
            for r in range { addRun(UnsafePointer(y + r * dim), 1, v, 1, y + r * dim, dim) }
        }
    }

    /// y[r, n, :] += gate[r / rowsPerGate] ⊙ x[r, n, :] with y, x (rows, tokens, dim) contiguous and
    /// gate row g at `gate + g * gateRowStride` (e.g. a D-chunk of the (R, 6D) adaLN projection).
    public static func addGated(
        into y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, gate: UnsafePointer<Float>,
        rows: Int, tokens: Int, dim: Int, gateRowStride: Int, rowsPerGate: Int = 1
    ) {
        precondition(rowsPerGate >= 1, "rowsPerGate must be >= 1")
        let lines = rows * tokens
        Parallel.forRange(lines, grain: max(1, 32768 / max(dim, 1))) { range in
            for line in range {
                let g = gate + (line / tokens / rowsPerGate) * gateRowStride
                let ys = y + line * dim, xs = x + line * dim
                var i = 0
                while i + vectorWidth <= dim {
                    store16(load16(ys + i) + load16(g + i) * load16(xs + i), ys + i)
                    i += vectorWidth
                }
                while i < dim { ys[i] += g[i] * xs[i]; i += 1 }
            }
        }
    }

    // MARK: Internals

    /// Splits 0..<count into cache-friendly parallel chunks.
    @inline(__always)
    static func parallelChunks(_ count: Int, _ body: (Int, Int) -> Void) {
        let block = 16384
        let blocks = (count + block - 1) / block
        Parallel.forRange(blocks, grain: 4) { range in
            body(range.lowerBound * block, min(count, range.upperBound * block))
        }
    }

    /// y[i] = a[i·sa] + b[i·sb] for i < n, with strides 0 or 1.
    @inline(__always)
    static func addRun(
        _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int, _ y: UnsafeMutablePointer<Float>,
        _ n: Int
    ) {
        var i = 0
        switch (sa, sb) {
        case (1, 1):
            while i + vectorWidth <= n { store16(load16(a + i) + load16(b + i), y + i); i += vectorWidth }
            while i < n { y[i] = a[i] + b[i]; i += 1 }
        case (1, _):
            let bv = b[0]
            while i + vectorWidth <= n { store16(load16(a + i) + bv, y + i); i += vectorWidth }
            while i < n { y[i] = a[i] + bv; i += 1 }
        case (_, 1):
            let av = a[0]
            while i + vectorWidth <= n { store16(av + load16(b + i), y + i); i += vectorWidth }
            while i < n { y[i] = av + b[i]; i += 1 }
        default:
            let v = a[0] + b[0]
            while i < n { y[i] = v; i += 1 }
        }
    }

    /// y[i] = a[i·sa] · b[i·sb] for i < n, with strides 0 or 1.
    @inline(__always)
    static func mulRun(
        _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int, _ y: UnsafeMutablePointer<Float>,
        _ n: Int
    ) {
        var i = 0
        switch (sa, sb) {
        case (1, 1):
            while i + vectorWidth <= n { store16(load16(a + i) * load16(b + i), y + i); i += vectorWidth }
            while i < n { y[i] = a[i] * b[i]; i += 1 }
        case (1, _):
            let bv = b[0]
            while i + vectorWidth <= n { store16(load16(a + i) * bv, y + i); i += vectorWidth }
            while i < n { y[i] = a[i] * bv; i += 1 }
        case (_, 1):
            let av = a[0]
            while i + vectorWidth <= n { store16(av * load16(b + i), y + i); i += vectorWidth }
            while i < n { y[i] = av * b[i]; i += 1 }
        default:
            let v = a[0] * b[0]
            while i < n { y[i] = v; i += 1 }
        }
    }

    /// Strides of `shape` (row-major) aligned to `outShape`, 0 on broadcast axes.
    static func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
        let rank = outShape.count, pad = rank - shape.count
        var strides = [Int](repeating: 0, count: rank)
        var s = 1
        for i in stride(from: rank - 1, through: pad, by: -1) {
            let d = shape[i - pad]
            strides[i] = d == 1 && outShape[i] != 1 ? 0 : s
            s *= d
        }
        return strides
    }

    static func binary(_ a: Tensor, _ b: Tensor, multiply: Bool) -> Tensor {
        let outShape = broadcastShape(a.shape, b.shape)
        var y = Tensor(zeros: outShape)
        let yp = y.mutablePointer()
        withExtendedLifetime((a, b)) {
            broadcastKernel(a.pointer, a.shape, b.pointer, b.shape, yp, outShape, multiply: multiply)
        }
        return y
    }

    static func binaryInPlace(_ y: inout Tensor, _ x: Tensor, multiply: Bool) {
        let outShape = broadcastShape(y.shape, x.shape)
        precondition(outShape == y.shape, "in-place: \(x.shape) does not broadcast to \(y.shape)")
        let yp = y.mutablePointer()
        withExtendedLifetime(x) {
            broadcastKernel(UnsafePointer(yp), y.shape, x.pointer, x.shape, yp, outShape, multiply: multiply)
        }
    }

    /// Walks the output row by row (all axes but the last); the last axis is a contiguous or
    /// broadcast run for each operand.
    static func broadcastKernel(
        _ a: UnsafePointer<Float>, _ aShape: [Int], _ b: UnsafePointer<Float>, _ bShape: [Int],
        _ y: UnsafeMutablePointer<Float>, _ outShape: [Int], multiply: Bool
    ) {
        let count = outShape.reduce(1, *)
        guard count > 0 else { return }
        if outShape.isEmpty {
            y[0] = multiply ? a[0] * b[0] : a[0] + b[0]
            return
        }
        let sa = broadcastStrides(aShape, to: outShape), sb = broadcastStrides(bShape, to: outShape)
        let rank = outShape.count, inner = outShape[rank - 1]
        let rows = count / inner
        let lastA = sa[rank - 1], lastB = sb[rank - 1]
        Parallel.forRange(rows, grain: max(1, 16384 / max(inner, 1))) { range in
            for row in range {
                var rem = row, offA = 0, offB = 0
                var axis = rank - 2
                while axis >= 0 {
                    let d = outShape[axis]
                    let i = rem % d
                    rem /= d
                    offA += i * sa[axis]
                    offB += i * sb[axis]
                    axis -= 1
                }
                if multiply {
                    mulRun(a + offA, lastA, b + offB, lastB, y + row * inner, inner)
                } else {
                    addRun(a + offA, lastA, b + offB, lastB, y + row * inner, inner)
                }
            }
        }
    }
}
