// LayerNorm (plain, affine, adaLN-modulated) and RMSNorm vs Double references.

import Foundation
import TensorCore
import XCTest

final class NormalizationTests: XCTestCase {
    func layerNormReference(_ x: [Double], dim: Int, eps: Double, weight: [Double]?, bias: [Double]?) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        for r in 0..<(x.count / dim) {
            let row = x[(r * dim)..<((r + 1) * dim)]
            let mean = row.reduce(0, +) / Double(dim)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(dim)
            for j in 0..<dim {
                var v = (x[r * dim + j] - mean) / (variance + eps).squareRoot()
                if let w = weight { v *= w[j] }
                if let b = bias { v += b[j] }
                out[r * dim + j] = v
            }
        }
        return out
    }

    func testLayerNorm() {
        var rng = SeededRandom(seed: 10)
        for (rows, dim) in [(1, 1), (3, 7), (5, 33), (9, 1152), (2, 2304)] {
            let x = rng.tensor([rows, dim], scale: 2, offset: 0.7)
            let w = rng.tensor([dim]), b = rng.tensor([dim])
            assertClose(
                Norm.layerNorm(x, eps: 1e-6).scalars,
                layerNormReference(x.doubles, dim: dim, eps: 1e-6, weight: nil, bias: nil), "LN \(rows)x\(dim)")
            assertClose(
                Norm.layerNorm(x, weight: w, bias: b, eps: 1e-5).scalars,
                layerNormReference(x.doubles, dim: dim, eps: 1e-5, weight: w.doubles, bias: b.doubles),
                "LN affine \(rows)x\(dim)")
        }
        // eps matters for a near-constant row: 1e-6 vs 1e-5 must be distinguishable.
        let flat = Tensor(shape: [1, 4], values: [1, 1.001, 0.999, 1])
        let got = Norm.layerNorm(flat, eps: 1e-6).scalars
        assertClose(got, layerNormReference(flat.doubles, dim: 4, eps: 1e-6, weight: nil, bias: nil), tol: 1e-3, "eps")
    }

    func testLayerNormInPlace() {
        var rng = SeededRandom(seed: 11)
        var x = rng.tensor([4, 45])
        let want = layerNormReference(x.doubles, dim: 45, eps: 1e-6, weight: nil, bias: nil)
        let p = x.mutablePointer()
        Norm.layerNorm(UnsafePointer(p), rows: 4, dim: 45, weight: nil, bias: nil, eps: 1e-6, into: p)
        assertClose(x.scalars, want, "in place")
    }

    func testLayerNormModulated() {
        var rng = SeededRandom(seed: 12)
        let (r, n, d) = (6, 7, 41)
        let x = rng.tensor([r, n, d], scale: 1.5, offset: -0.3)
        let shift = rng.tensor([2, d]), scale = rng.tensor([2, d])
        let got = Norm.layerNormModulated(x, shift: shift, scale: scale, eps: 1e-6)
        let ln = layerNormReference(x.doubles, dim: d, eps: 1e-6, weight: nil, bias: nil)
        let sh = shift.doubles, sc = scale.doubles
        let want = (0..<ln.count).map { i -> Double in
            let g = (i / (n * d)) / 3, c = i % d
            return ln[i] * (1 + sc[g * d + c]) + sh[g * d + c]
        }
        assertClose(got.scalars, want, "LN modulated")
        // Strided conditioning (chunks of a (R, 6D) projection), one conditioning row per row.
        let m = rng.tensor([r, 6 * d])
        var y = Tensor(zeros: [r, n, d])
        Norm.layerNormModulated(
            x.pointer, rows: r, tokens: n, dim: d, shift: m.pointer, scale: m.pointer + d,
            condRowStride: 6 * d, eps: 1e-6, into: y.mutablePointer())
        let mv = m.doubles
        let want2 = (0..<ln.count).map { i -> Double in
            let row = i / (n * d), c = i % d
            return ln[i] * (1 + mv[row * 6 * d + d + c]) + mv[row * 6 * d + c]
        }
        assertClose(y.scalars, want2, "LN modulated strided")
    }

    func testRMSNorm() {
        var rng = SeededRandom(seed: 13)
        for (rows, dim) in [(1, 3), (7, 32), (3, 4096 + 5)] {
            let x = rng.tensor([rows, dim], scale: 3)
            let w = rng.tensor([dim])
            let xv = x.doubles, wv = w.doubles
            var want = [Double](repeating: 0, count: xv.count)
            for r in 0..<rows {
                let ms = (0..<dim).reduce(0.0) { $0 + xv[r * dim + $1] * xv[r * dim + $1] } / Double(dim)
                for j in 0..<dim { want[r * dim + j] = xv[r * dim + j] / (ms + 1e-6).squareRoot() * wv[j] }
            }
            assertClose(Norm.rmsNorm(x, weight: w, eps: 1e-6).scalars, want, "RMSNorm \(rows)x\(dim)")
        }
    }
}
