// 2-D convolution (stride 1, zero padding k/2, with bias) on `FeatureMap`s as GEMMs over bands of
// output rows. Thanks to the input's zero border, the inputs of tap (dy, dx) for a run of output
// pixels are the same run of input pixels shifted by dy·(W+2)+dx, and the three taps of one
// kernel row are 3·C_in contiguous floats. The layer groups its taps (one GEMM per group):
// - `.perTap`: 9 GEMMs with K = C_in reading the input in place (no copy);
// - `.perRow`: 3 GEMMs with K = 3·C_in over a band copy of each kernel row's contiguous window;
// - `.whole`: 1 GEMM with K = 9·C_in over a band im2col.
// Output pixels of a band are M = band rows·(W+2) padded pixels; the two border columns receive
// garbage and are zeroed afterwards. Scratch: one band of the grouped input.

import Foundation
import TensorCore

/// A Conv2d layer (weight [C_out, C_in, k, k], k = 1 or 3) with weights prepared for one engine.
final class Conv2D {
    /// How taps are grouped into GEMMs.
    enum Grouping: String, Sendable { case perTap, perRow, whole }

    let inChannels: Int
    let outChannels: Int
    let kernel: Int
    let grouping: Grouping
    /// Per GEMM: the tap offsets (dy, dx) it covers, in weight-column order, and W_g (C_out, taps·C_in).
    private let groups: [(taps: [(dy: Int, dx: Int)], weight: PreparedWeight)]
    private let bias: Tensor
    private let engine: GEMMEngine
    private let pool = BufferPool()

    /// Output pixels per GEMM band, rounded to whole rows.
    static let bandPixels = 2048
    /// The grouping used for 3x3 kernels.
    static let defaultGrouping = Grouping(rawValue: ProcessInfo.processInfo.environment["VAE_GROUPING"] ?? "") ?? .perTap

    /// weight: [C_out, C_in, k, k]; bias: [C_out].
    init(weight: Tensor, bias: Tensor, engine: GEMMEngine, grouping: Grouping = Conv2D.defaultGrouping) {
        precondition(weight.rank == 4 && weight.shape[2] == weight.shape[3], "conv weight \(weight.shape)")
        let (co, ci, k) = (weight.shape[0], weight.shape[1], weight.shape[2])
        precondition(k == 1 || k == 3, "only 1x1 and 3x3 convolutions are supported, got \(k)x\(k)")
        precondition(bias.shape == [co], "conv bias \(bias.shape) for \(co) outputs")
        inChannels = ci
        outChannels = co
        kernel = k
        self.grouping = k == 1 ? .perTap : grouping
        self.bias = bias
        self.engine = engine
        let r = k / 2
        var tapGroups: [[(dy: Int, dx: Int)]]
        switch self.grouping {
        case .perTap: tapGroups = (-r...r).flatMap { dy in (-r...r).map { dx in [(dy, dx)] } }
        case .perRow: tapGroups = (-r...r).map { dy in (-r...r).map { dx in (dy, dx) } }
        case .whole: tapGroups = [(-r...r).flatMap { dy in (-r...r).map { dx in (dy, dx) } }]
        }
        let w = weight.pointer
        groups = tapGroups.map { taps in
            let kk = taps.count * ci
            var g = Tensor(zeros: [co, kk])
            let p = g.mutablePointer()
            for o in 0..<co {
                for (t, tap) in taps.enumerated() {
                    for i in 0..<ci { p[o * kk + t * ci + i] = w[((o * ci + i) * k + tap.dy + r) * k + tap.dx + r] }
                }
            }
            return (taps, engine.prepare(weight: g))
        }
    }

    /// output = conv(input), or output += conv(input) when `accumulate`. Same H and W.
    func apply(_ input: FeatureMap, into output: FeatureMap, accumulate: Bool = false) {
        precondition(input.channels == inChannels && output.channels == outChannels, "conv channels")
        precondition(input.height == output.height && input.width == output.width, "conv sizes")
        let rp = input.rowPixels, h = input.height, ci = inChannels
        let bandRows = max(1, Self.bandPixels / rp)
        let copies = grouping != .perTap
        let groupK = groups[0].taps.count * ci
        let scratch = copies ? pool.take(count: min(h, bandRows) * rp * groupK) : nil
        defer { if let scratch { pool.give(scratch) } }
        withExtendedLifetime(bias) {
            var y0 = 0
            while y0 < h {
                let y1 = min(h, y0 + bandRows)
                let q0 = (y0 + 1) * rp, m = (y1 - y0) * rp
                let out = output.origin + q0 * outChannels
                for (g, group) in groups.enumerated() {
                    let a: UnsafePointer<Float>
                    if let scratch {
                        Self.gather(input, taps: group.taps, pixels: q0..<(q0 + m), into: scratch.pointer)
                        a = UnsafePointer(scratch.pointer)
                    } else {
                        a = UnsafePointer(input.origin + (q0 + group.taps[0].dy * rp + group.taps[0].dx) * ci)
                    }
                    engine.linear(
                        a, rows: m, weight: group.weight, bias: g == 0 ? bias.pointer : nil, into: out,
                        accumulate: accumulate || g > 0)
                }
                output.zeroBorderColumns(rows: y0..<y1)
                y0 = y1
            }
        }
    }

    /// Row p of `dst` = the inputs of padded pixel q0 + p for `taps` (consecutive taps of one kernel
    /// row are one contiguous copy).
    static func gather(_ input: FeatureMap, taps: [(dy: Int, dx: Int)], pixels: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        let ci = input.channels, rp = input.rowPixels, k = taps.count * ci
        // Runs of taps with the same dy and consecutive dx.
        var runs: [(offset: Int, column: Int, length: Int)] = []
        for (t, tap) in taps.enumerated() {
            if let last = runs.last, taps[t - 1].dy == tap.dy, taps[t - 1].dx + 1 == tap.dx {
                runs[runs.count - 1].length += ci
            } else {
                runs.append(((tap.dy * rp + tap.dx) * ci, t * ci, ci))
            }
        }
        let origin = input.origin, lo = pixels.lowerBound
        Parallel.forRange(pixels.count, grain: 64) { range in
            for p in range {
                let src = origin + (lo + p) * ci, row = dst + p * k
                for run in runs { (row + run.column).update(from: src + run.offset, count: run.length) }
            }
        }
    }

    /// conv(input) into a new map from the input's pool.
    func callAsFunction(_ input: FeatureMap) -> FeatureMap {
        let out = input.sibling(channels: outChannels)
        apply(input, into: out)
        return out
    }
}
