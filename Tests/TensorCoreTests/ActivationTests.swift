// GELU (tanh, erf), SiLU, sigmoid, gated GELU, softmax and the vector exp vs Double references.

import Foundation
import TensorCore
import XCTest

final class ActivationTests: XCTestCase {
    /// Inputs spanning the interesting range, ragged length, including exact zeros and extremes.
    func inputs(_ n: Int, seed: UInt64) -> Tensor {
        var rng = SeededRandom(seed: seed)
        var v = (0..<n).map { _ in rng.normal() * 4 }
        v += [0, -0.0, 1e-4, -1e-4, 9.5, -9.5, 20, -20, 87, -87, -100]
        return Tensor(shape: [v.count], values: v)
    }

    func geluTanhRef(_ x: Double) -> Double {
        0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
    }

    func testGELU() {
        let x = inputs(1013, seed: 20)
        assertClose(Activation.geluTanh(x).scalars, x.doubles.map(geluTanhRef), "gelu tanh")
        assertClose(
            Activation.geluErf(x).scalars, x.doubles.map { 0.5 * $0 * erfc(-$0 / 2.0.squareRoot()) }, "gelu erf")
        // The two GELUs differ by ~1e-3 somewhere: the test can tell them apart.
        let diff = zip(Activation.geluTanh(x).scalars, Activation.geluErf(x).scalars).map { abs($0 - $1) }.max() ?? 0
        XCTAssertGreaterThan(diff, 1e-4)
    }

    func testSiLUSigmoid() {
        let x = inputs(777, seed: 21)
        assertClose(Activation.silu(x).scalars, x.doubles.map { $0 / (1 + Foundation.exp(-$0)) }, "silu")
        assertClose(Activation.sigmoid(x).scalars, x.doubles.map { 1 / (1 + Foundation.exp(-$0)) }, "sigmoid")
    }

    func testGatedGELU() {
        var rng = SeededRandom(seed: 22)
        let a = rng.tensor([3, 41], scale: 3), b = rng.tensor([3, 41])
        assertClose(Activation.gatedGELU(a, b).scalars, zip(a.doubles, b.doubles).map { geluTanhRef($0) * $1 }, "gated")
        var inPlace = a.copy()
        let p = inPlace.mutablePointer()
        Activation.gatedGELU(UnsafePointer(p), b.pointer, count: a.count, into: p)
        assertClose(inPlace.scalars, zip(a.doubles, b.doubles).map { geluTanhRef($0) * $1 }, "gated in place")
    }

    func testExp() {
        var xs: [Float] = stride(from: -86.9, through: 87.9, by: 0.0137).map { Float($0) }
        xs += [0, 1, -1, 1e-7, -1e-7]
        var got: [Float] = []
        var i = 0
        while i < xs.count {
            var v = SIMD8<Float>()
            for j in 0..<8 { v[j] = i + j < xs.count ? xs[i + j] : 0 }
            let e = VectorMath.exp(v)
            for j in 0..<8 where i + j < xs.count { got.append(e[j]) }
            i += 8
        }
        let worst = zip(got, xs).map { abs(Double($0) / Foundation.exp(Double($1)) - 1) }.max() ?? 1
        XCTAssertLessThan(worst, 3e-7)
        XCTAssertEqual(VectorMath.exp(SIMD8(repeating: -.infinity))[0], 0)
    }

    func testSoftmax() {
        var rng = SeededRandom(seed: 23)
        for (rows, dim) in [(1, 1), (4, 7), (3, 16), (5, 257), (2, 1000)] {
            let x = rng.tensor([rows, dim], scale: 5, offset: 30)  // large offsets: needs max subtraction
            let xv = x.doubles
            var want = [Double](repeating: 0, count: xv.count)
            for r in 0..<rows {
                let row = xv[(r * dim)..<((r + 1) * dim)]
                let m = row.max() ?? 0
                let s = row.reduce(0) { $0 + Foundation.exp($1 - m) }
                for j in 0..<dim { want[r * dim + j] = Foundation.exp(xv[r * dim + j] - m) / s }
            }
            assertClose(Softmax.lastDim(x).scalars, want, "softmax \(rows)x\(dim)")
        }
    }
}
