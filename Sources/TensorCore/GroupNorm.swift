// GroupNorm over channel groups of consecutive channels, biased variance, per-channel affine,
// optional fused SiLU. Memory layout (N samples, F frames, C channels, S spatial): for each sample,
// a group's statistics span its C/G channels × F frames × S positions. F = 1 gives the ordinary
// (N, C, H, W) GroupNorm; F > 1 gives the SVD temporal-decoder GroupNorm on frame-major
// (F, C, H, W) video. Statistics are two-pass, accumulated in Double.

/// Per-group mean and 1/√(var + eps) of one sample.
public struct GroupNormStatistics: Sendable {
    public var mean: [Float]
    public var invStd: [Float]
    public var groups: Int { mean.count }
}

extension Norm {
    // MARK: Tensor level

    /// GroupNorm of x (N, C, ...) with G groups; with `spanningFrames`, x is one video (F, C, ...)
    /// whose group statistics span all F frames. weight/bias (C) optional; `silu` applies SiLU after.
    public static func groupNorm(
        _ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Float, silu: Bool = false,
        spanningFrames: Bool = false
    ) -> Tensor {
        precondition(x.rank >= 2, "groupNorm: x \(x.shape) must be (N, C, ...)")
        let n = x.shape[0], c = x.shape[1], s = x.shape.dropFirst(2).reduce(1, *)
        precondition(groups > 0 && c % groups == 0, "groupNorm: \(c) channels do not split into \(groups) groups")
        precondition(
            weight.map { $0.count == c } ?? true, "groupNorm: weight \(weight?.shape ?? []) must have \(c) values")
        precondition(bias.map { $0.count == c } ?? true, "groupNorm: bias \(bias?.shape ?? []) must have \(c) values")
        var y = Tensor(zeros: x.shape)
        let yp = y.mutablePointer()
        withExtendedLifetime((x, weight, bias)) {
            groupNorm(
                x.pointer, samples: spanningFrames ? 1 : n, frames: spanningFrames ? n : 1, channels: c,
                spatial: s, groups: groups, weight: weight?.pointer, bias: bias?.pointer, eps: eps, silu: silu,
                into: yp)
        }
        return y
    }

    // MARK: Pointer level

    /// GroupNorm of x laid out (samples, frames, channels, spatial); see the file header.
    public static func groupNorm(
        _ x: UnsafePointer<Float>, samples: Int, frames: Int = 1, channels: Int, spatial: Int, groups: Int,
        weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, eps: Float, silu: Bool = false,
        into y: UnsafeMutablePointer<Float>
    ) {
        precondition(
            groups > 0 && channels % groups == 0, "groupNorm: \(channels) channels do not split into \(groups) groups")
        var mean = [Float](repeating: 0, count: samples * groups)
        var rstd = mean
        mean.withUnsafeMutableBufferPointer { m in
            rstd.withUnsafeMutableBufferPointer { r in
                guard let mp = m.baseAddress, let rp = r.baseAddress else { return }
                statistics(
                    x, samples: samples, frames: frames, channels: channels, spatial: spatial, groups: groups,
                    eps: eps, mean: mp, invStd: rp)
                let sampleSize = frames * channels * spatial
                for n in 0..<samples {
                    apply(
                        x + n * sampleSize, frames: frames, channels: channels, spatial: spatial, groups: groups,
                        mean: mp + n * groups, invStd: rp + n * groups, weight: weight, bias: bias, silu: silu,
                        into: y + n * sampleSize)
                }
            }
        }
    }

    /// Group statistics of one sample laid out (frames, channels, spatial).
    public static func groupNormStatistics(
        _ x: UnsafePointer<Float>, frames: Int = 1, channels: Int, spatial: Int, groups: Int, eps: Float
    ) -> GroupNormStatistics {
        precondition(
            groups > 0 && channels % groups == 0, "groupNorm: \(channels) channels do not split into \(groups) groups")
        var mean = [Float](repeating: 0, count: groups)
        var rstd = mean
        mean.withUnsafeMutableBufferPointer { m in
            rstd.withUnsafeMutableBufferPointer { r in
                guard let mp = m.baseAddress, let rp = r.baseAddress else { return }
                statistics(
                    x, samples: 1, frames: frames, channels: channels, spatial: spatial, groups: groups,
                    eps: eps, mean: mp, invStd: rp)
            }
        }
        return GroupNormStatistics(mean: mean, invStd: rstd)
    }

    /// Normalises `frames` frames (frames, channels, spatial) with precomputed statistics (e.g. one
    /// frame at a time of a video whose statistics came from `groupNormStatistics`).
    public static func groupNormApply(
        _ x: UnsafePointer<Float>, frames: Int = 1, channels: Int, spatial: Int, statistics: GroupNormStatistics,
        weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, silu: Bool = false,
        into y: UnsafeMutablePointer<Float>
    ) {
        let g = statistics.groups
        precondition(g > 0 && channels % g == 0, "groupNormApply: \(channels) channels do not split into \(g) groups")
        statistics.mean.withUnsafeBufferPointer { m in
            statistics.invStd.withUnsafeBufferPointer { r in
                guard let mp = m.baseAddress, let rp = r.baseAddress else { return }
                apply(
                    x, frames: frames, channels: channels, spatial: spatial, groups: g, mean: mp, invStd: rp,
                    weight: weight, bias: bias, silu: silu, into: y)
            }
        }
    }

    // MARK: Internals

    /// Σ over a run of n floats (float SIMD partials of ≤ 1024 values, Double total).
    @inline(__always)
    static func runSum(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
        var total = 0.0
        var start = 0
        while start < n {
            let end = min(n, start + 1024)
            var acc = SIMD16<Float>()
            var i = start
            while i + vectorWidth <= end { acc += load16(p + i); i += vectorWidth }
            var s = acc.sum()
            while i < end { s += p[i]; i += 1 }
            total += Double(s)
            start = end
        }
        return total
    }

    /// Σ (x − m)² over a run of n floats.
    @inline(__always)
    static func runSquares(_ p: UnsafePointer<Float>, _ n: Int, _ m: Float) -> Double {
        var total = 0.0
        var start = 0
        while start < n {
            let end = min(n, start + 1024)
            var acc = SIMD16<Float>()
            var i = start
            while i + vectorWidth <= end { let c = load16(p + i) - m; acc += c * c; i += vectorWidth }
            var s = acc.sum()
            while i < end { let c = p[i] - m; s += c * c; i += 1 }
            total += Double(s)
            start = end
        }
        return total
    }

    static func statistics(
        _ x: UnsafePointer<Float>, samples: Int, frames: Int, channels: Int, spatial: Int, groups: Int, eps: Float,
        mean: UnsafeMutablePointer<Float>, invStd: UnsafeMutablePointer<Float>
    ) {
        let cpg = channels / groups
        let count = Double(cpg * frames * spatial)
        Parallel.forRange(samples * groups) { range in
            for job in range {
                let n = job / groups, g = job % groups
                let base = x + n * frames * channels * spatial + g * cpg * spatial
                var sum = 0.0
                for f in 0..<frames { sum += runSum(base + f * channels * spatial, cpg * spatial) }
                let m = Float(sum / count)
                var sq = 0.0
                for f in 0..<frames { sq += runSquares(base + f * channels * spatial, cpg * spatial, m) }
                // Correct for the rounding of the mean to float: Σ(x−m)² = Σ(x−μ)² + n(μ−m)².
                let mu = sum / count, delta = mu - Double(m)
                let variance = max(0, sq / count - delta * delta)
                mean[job] = Float(mu)
                invStd[job] = Float(1 / (variance + Double(eps)).squareRoot())
            }
        }
    }

    static func apply(
        _ x: UnsafePointer<Float>, frames: Int, channels: Int, spatial: Int, groups: Int,
        mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>,
        weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, silu: Bool, into y: UnsafeMutablePointer<Float>
    ) {
        let cpg = channels / groups
        Parallel.forRange(frames * channels, grain: max(1, 16384 / max(spatial, 1))) { range in
            for line in range {
                let c = line % channels, g = c / cpg
                let m = mean[g]
                let a = invStd[g] * (weight?[c] ?? 1)
                let b = bias?[c] ?? 0
                let xs = x + line * spatial, ys = y + line * spatial
                var i = 0
                if silu {
                    while i + 8 <= spatial {
                        let v = (load8(xs + i) - m) * a + b
                        store8(v * VectorMath.sigmoid(v), ys + i)
                        i += 8
                    }
                    if i < spatial {
                        var tail = SIMD8<Float>()
                        for j in i..<spatial { tail[j - i] = (xs[j] - m) * a + b }
                        let out = tail * VectorMath.sigmoid(tail)
                        for j in i..<spatial { ys[j] = out[j - i] }
                    }
                } else {
                    while i + vectorWidth <= spatial { store16((load16(xs + i) - m) * a + b, ys + i); i += vectorWidth }
                    while i < spatial { ys[i] = (xs[i] - m) * a + b; i += 1 }
                }
            }
        }
    }
}
