// GroupNorm with affine parameters on `FeatureMap`s, optionally fused with SiLU. Statistics span
// the interior of every map passed: one frame for the spatial norms, all frames of a decode
// call's video for the temporal ones. Two passes (mean, then squared deviations), with per-row
// float partial sums accumulated in Double, as the spec asks (no E[x²] − E[x]² shortcut).

import Foundation
import TensorCore

/// GroupNorm(groups, C, epsilon) with per-channel gamma and beta.
struct GroupNorm {
    let groups: Int
    let epsilon: Float
    let gamma: [Float]
    let beta: [Float]
    var channels: Int { gamma.count }

    init(groups: Int, epsilon: Float, gamma: Tensor, beta: Tensor) {
        precondition(
            gamma.count == beta.count && gamma.count % groups == 0,
            "GroupNorm: \(gamma.count) channels, \(groups) groups")
        self.groups = groups
        self.epsilon = epsilon
        self.gamma = gamma.scalars
        self.beta = beta.scalars
    }

    /// Per-channel (mean, scale, shift) so that y = (x − mean) · scale + shift normalises `maps`
    /// with statistics shared across all of them.
    struct Coefficients {
        var mean: Tensor
        var scale: Tensor
        var shift: Tensor
    }

    func coefficients(over maps: [FeatureMap]) -> Coefficients {
        precondition(
            !maps.isEmpty && maps.allSatisfy { $0.channels == channels }, "GroupNorm over \(channels) channels")
        let c = channels, cg = c / groups
        let pixels = Double(maps.reduce(0) { $0 + $1.height * $1.width })
        let n = pixels * Double(cg)
        let sums = Self.channelReduce(maps) { row, acc, w in
            for x in 0..<w { ChannelKernels.add(row + x * c, into: acc, count: c) }
        }
        var groupMean = [Double](repeating: 0, count: groups)
        for ch in 0..<c { groupMean[ch / cg] += sums[ch] }
        for g in 0..<groups { groupMean[g] /= n }
        let mean = Tensor(shape: [c], values: (0..<c).map { Float(groupMean[$0 / cg]) })
        let squares = withExtendedLifetime(mean) {
            Self.channelReduce(maps) { row, acc, w in
                for x in 0..<w {
                    ChannelKernels.addSquaredDeviation(row + x * c, mean: mean.pointer, into: acc, count: c)
                }
            }
        }
        var groupVar = [Double](repeating: 0, count: groups)
        for ch in 0..<c { groupVar[ch / cg] += squares[ch] }
        var scale = [Float](repeating: 0, count: c), shift = [Float](repeating: 0, count: c)
        for ch in 0..<c {
            let rstd = 1 / (groupVar[ch / cg] / n + Double(epsilon)).squareRoot()
            scale[ch] = Float(Double(gamma[ch]) * rstd)
            shift[ch] = beta[ch]
        }
        return Coefficients(
            mean: mean, scale: Tensor(shape: [c], values: scale), shift: Tensor(shape: [c], values: shift))
    }

    /// dst = f(GroupNorm(src)) with statistics of `src` alone (dst may be src).
    func apply(_ src: FeatureMap, into dst: FeatureMap, silu: Bool) {
        Self.apply(coefficients(over: [src]), src, into: dst, silu: silu)
    }

    /// dst = f((src − mean) · scale + shift) on the interior (dst may be src); the border stays zero.
    static func apply(_ k: Coefficients, _ src: FeatureMap, into dst: FeatureMap, silu: Bool) {
        precondition(
            src.height == dst.height && src.width == dst.width && src.channels == dst.channels, "GroupNorm shapes")
        let c = src.channels, w = src.width
        withExtendedLifetime(k) {
            let mp = k.mean.pointer, sp = k.scale.pointer, bp = k.shift.pointer
            Parallel.forRange(src.height, grain: max(1, 8192 / max(w * c, 1))) { rows in
                for y in rows {
                    let from = src.pixel(y, 0), to = dst.pixel(y, 0)
                    for x in 0..<w {
                        ChannelKernels.normalize(
                            from + x * c, mean: mp, scale: sp, shift: bp, into: to + x * c, count: c, silu: silu)
                    }
                }
            }
        }
    }

    /// Per-channel Double sums of a row-wise float accumulation over the interiors of `maps`.
    /// `rowOp(row, acc, width)` adds one interior row's contribution into `acc` (C floats, zeroed).
    /// Deterministic for a given thread count (pieces are merged in order).
    static func channelReduce(
        _ maps: [FeatureMap], _ rowOp: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
    ) -> [Double] {
        let c = maps[0].channels
        var rowIndex: [(map: Int, y: Int)] = []
        for (i, m) in maps.enumerated() { for y in 0..<m.height { rowIndex.append((i, y)) } }
        let lock = NSLock()
        var partials: [Int: [Double]] = [:]
        Parallel.forRange(rowIndex.count) { range in
            var local = [Double](repeating: 0, count: c)
            let acc = ScratchMemory.allocateFloats(c)
            defer { ScratchMemory.release(acc) }
            for r in range {
                let (mi, y) = rowIndex[r]
                acc.update(repeating: 0, count: c)
                rowOp(maps[mi].pixel(y, 0), acc, maps[mi].width)
                for ch in 0..<c { local[ch] += Double(acc[ch]) }
            }
            lock.lock()
            partials[range.lowerBound] = local
            lock.unlock()
        }
        var total = [Double](repeating: 0, count: c)
        for key in partials.keys.sorted() {
            guard let p = partials[key] else { continue }
            for ch in 0..<c { total[ch] += p[ch] }
        }
        return total
    }
}
