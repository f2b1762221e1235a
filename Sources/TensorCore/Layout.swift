// Layout moves: general permute, concat and split along an axis, and Latte's two rearranges
// between the spatial layout (B·F, T, D) and the temporal layout (B·T, F, D).

/// Data-movement kernels. Pointer variants never run in place.
public enum Layout {
    // MARK: Permute

    /// Axes reordered: result.shape[i] = x.shape[perm[i]] (numpy transpose).
    public static func permute(_ x: Tensor, _ perm: [Int]) -> Tensor {
        precondition(
            perm.count == x.rank && Set(perm) == Set(0..<x.rank),
            "permute: \(perm) is not a permutation of \(x.rank) axes")
        let outShape = perm.map { x.shape[$0] }
        var y = Tensor(zeros: outShape)
        guard y.count > 0 else { return y }
        var inStrides = [Int](repeating: 1, count: x.rank)
        for i in stride(from: x.rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * x.shape[i + 1] }
        let strides = perm.map { inStrides[$0] }  // input stride of each output axis
        let rank = outShape.count
        let yp = y.mutablePointer()
        if rank == 0 { yp[0] = x.pointer[0]; return y }
        let inner = outShape[rank - 1], innerStride = strides[rank - 1]
        let rows = y.count / inner
        withExtendedLifetime(x) {
            let xp = x.pointer
            Parallel.forRange(rows, grain: max(1, 16384 / max(inner, 1))) { range in
                for row in range {
                    var rem = row, off = 0, axis = rank - 2
                    while axis >= 0 {
                        let d = outShape[axis]
                        off += (rem % d) * strides[axis]
                        rem /= d
                        axis -= 1
                    }
                    let dst = yp + row * inner, src = xp + off
                    if innerStride == 1 {
                        dst.update(from: src, count: inner)
                    } else {
                        for j in 0..<inner { dst[j] = src[j * innerStride] }
                    }
                }
            }
        }
        return y
    }

    // MARK: Concat / split

    /// Tensors joined along `axis` (negative counts from the end); other axes must match.
    public static func concat(_ xs: [Tensor], axis: Int) -> Tensor {
        precondition(!xs.isEmpty, "concat: no tensors")
        let rank = xs[0].rank
        let ax = axis < 0 ? axis + rank : axis
        precondition(ax >= 0 && ax < rank, "concat: axis \(axis) out of range for rank \(rank)")
        for t in xs {
            precondition(
                t.rank == rank && (0..<rank).allSatisfy { $0 == ax || t.shape[$0] == xs[0].shape[$0] },
                "concat: \(t.shape) does not match \(xs[0].shape) outside axis \(ax)")
        }
        var outShape = xs[0].shape
        outShape[ax] = xs.reduce(0) { $0 + $1.shape[ax] }
        var y = Tensor(zeros: outShape)
        let yp = y.mutablePointer()
        let outer = outShape[..<ax].reduce(1, *)
        let tail = outShape[(ax + 1)...].reduce(1, *)
        let outRun = outShape[ax] * tail
        var offset = 0
        for t in xs {
            let run = t.shape[ax] * tail
            withExtendedLifetime(t) {
                copyRuns(t.pointer, srcStride: run, yp + offset, dstStride: outRun, runs: outer, length: run)
            }
            offset += run
        }
        return y
    }

    /// x cut along `axis` into pieces of the given sizes (which must sum to that axis).
    public static func split(_ x: Tensor, sizes: [Int], axis: Int) -> [Tensor] {
        let rank = x.rank
        let ax = axis < 0 ? axis + rank : axis
        precondition(ax >= 0 && ax < rank, "split: axis \(axis) out of range for rank \(rank)")
        precondition(
            sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == x.shape[ax],
            "split: sizes \(sizes) do not sum to \(x.shape[ax])")
        let outer = x.shape[..<ax].reduce(1, *)
        let tail = x.shape[(ax + 1)...].reduce(1, *)
        let inRun = x.shape[ax] * tail
        var offset = 0
        var pieces: [Tensor] = []
        for size in sizes {
            var shape = x.shape
            shape[ax] = size
            var piece = Tensor(zeros: shape)
            let pp = piece.mutablePointer()
            withExtendedLifetime(x) {
                copyRuns(
                    x.pointer + offset, srcStride: inRun, pp, dstStride: size * tail, runs: outer, length: size * tail)
            }
            offset += size * tail
            pieces.append(piece)
        }
        return pieces
    }

    /// y (rows, a + b) = [x1 (rows, a) | x2 (rows, b)] (e.g. Latte's skip concat [h, s]).
    public static func concatLastDim(
        _ x1: UnsafePointer<Float>, width a: Int, _ x2: UnsafePointer<Float>, width b: Int, rows: Int,
        into y: UnsafeMutablePointer<Float>
    ) {
        copyRuns(x1, srcStride: a, y, dstStride: a + b, runs: rows, length: a)
        copyRuns(x2, srcStride: b, y + a, dstStride: a + b, runs: rows, length: b)
    }

    // MARK: Latte rearranges

    /// (B·F, T, D) → (B·T, F, D): out[b·T + t, f] = x[b·F + f, t] (spatial → temporal layout).
    public static func framesToTokens(_ x: Tensor, batch: Int) -> Tensor {
        precondition(
            x.rank == 3 && batch > 0 && x.shape[0] % batch == 0, "framesToTokens: x \(x.shape) must be (B·F, T, D)")
        let f = x.shape[0] / batch, t = x.shape[1], d = x.shape[2]
        var y = Tensor(zeros: [batch * t, f, d])
        let yp = y.mutablePointer()
        withExtendedLifetime(x) { framesToTokens(x.pointer, batch: batch, frames: f, tokens: t, dim: d, into: yp) }
        return y
    }

    /// (B·T, F, D) → (B·F, T, D): the inverse of `framesToTokens`.
    public static func tokensToFrames(_ x: Tensor, batch: Int) -> Tensor {
        precondition(
            x.rank == 3 && batch > 0 && x.shape[0] % batch == 0, "tokensToFrames: x \(x.shape) must be (B·T, F, D)")
        let t = x.shape[0] / batch, f = x.shape[1], d = x.shape[2]
        var y = Tensor(zeros: [batch * f, t, d])
        let yp = y.mutablePointer()
        withExtendedLifetime(x) { tokensToFrames(x.pointer, batch: batch, frames: f, tokens: t, dim: d, into: yp) }
        return y
    }

    /// Pointer form of `framesToTokens`: x (B·F, T, D) → y (B·T, F, D).
    public static func framesToTokens(
        _ x: UnsafePointer<Float>, batch: Int, frames: Int, tokens: Int, dim: Int, into y: UnsafeMutablePointer<Float>
    ) {
        swapMiddle(x, batch: batch, outer: frames, inner: tokens, dim: dim, into: y)
    }

    /// Pointer form of `tokensToFrames`: x (B·T, F, D) → y (B·F, T, D).
    public static func tokensToFrames(
        _ x: UnsafePointer<Float>, batch: Int, frames: Int, tokens: Int, dim: Int, into y: UnsafeMutablePointer<Float>
    ) {
        swapMiddle(x, batch: batch, outer: tokens, inner: frames, dim: dim, into: y)
    }

    // MARK: Internals

    /// x (B, P, Q, D) → y (B, Q, P, D), copying D-float runs.
    static func swapMiddle(
        _ x: UnsafePointer<Float>, batch: Int, outer p: Int, inner q: Int, dim d: Int,
        into y: UnsafeMutablePointer<Float>
    ) {
        Parallel.forRange(batch * q, grain: max(1, 16384 / max(p * d, 1))) { range in
            for bq in range {
                let b = bq / q, j = bq % q
                let dst = y + bq * p * d
                let src = x + (b * p * q + j) * d
                for i in 0..<p { (dst + i * d).update(from: src + i * q * d, count: d) }
            }
        }
    }

    /// Copies `runs` runs of `length` floats between strided positions, in parallel.
    static func copyRuns(
        _ src: UnsafePointer<Float>, srcStride: Int, _ dst: UnsafeMutablePointer<Float>, dstStride: Int,
        runs: Int, length: Int
    ) {
        guard length > 0 else { return }
        Parallel.forRange(runs, grain: max(1, 16384 / length)) { range in
            for i in range { (dst + i * dstStride).update(from: src + i * srcStride, count: length) }
        }
    }
}
