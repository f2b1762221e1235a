// Elementwise kernels (broadcast add/mul, in-place ops, axpy, gated residual) vs Double loops.

import TensorCore
import XCTest

final class ElementwiseTests: XCTestCase {
    /// Double reference for a broadcast binary op.
    func reference(_ a: Tensor, _ b: Tensor, _ op: (Double, Double) -> Double) -> [Double] {
        let out = Elementwise.broadcastShape(a.shape, b.shape)
        let rank = out.count
        func index(_ shape: [Int], _ coords: [Int]) -> Int {
            var idx = 0
            let pad = rank - shape.count
            for (i, d) in shape.enumerated() { idx = idx * d + (d == 1 ? 0 : coords[i + pad]) }
            return idx
        }
        let n = out.reduce(1, *)
        let av = a.scalars, bv = b.scalars
        return (0..<n).map { flat in
            var coords = [Int](repeating: 0, count: rank)
            var rem = flat
            for i in stride(from: rank - 1, through: 0, by: -1) { coords[i] = rem % out[i]; rem /= out[i] }
            return op(Double(av[index(a.shape, coords)]), Double(bv[index(b.shape, coords)]))
        }
    }

    func testBroadcastShapes() {
        XCTAssertEqual(Elementwise.broadcastShape([3, 1, 5], [4, 1]), [3, 4, 5])
        XCTAssertEqual(Elementwise.broadcastShape([], [2, 3]), [2, 3])
    }

    func testBroadcastAddMul() {
        var rng = SeededRandom(seed: 1)
        let cases: [([Int], [Int])] = [
            ([37], [37]), ([5, 19], [19]), ([3, 1, 21], [4, 1]), ([7, 1, 1], [7, 5, 3]), ([1], [2, 33]),
            ([6, 35], [6, 1]), ([2, 3, 4, 17], [3, 1, 17]), ([], [4]),
        ]
        for (sa, sb) in cases {
            let a = rng.tensor(sa), b = rng.tensor(sb)
            let sum = Elementwise.add(a, b), prod = Elementwise.mul(a, b)
            XCTAssertEqual(sum.shape, Elementwise.broadcastShape(sa, sb))
            assertClose(sum.scalars, reference(a, b, +), tol: 1e-7, "add \(sa) \(sb)")
            assertClose(prod.scalars, reference(a, b, *), tol: 1e-7, "mul \(sa) \(sb)")
        }
    }

    func testInPlaceAndScale() {
        var rng = SeededRandom(seed: 2)
        var y = rng.tensor([5, 3, 23])
        let x = rng.tensor([3, 1])
        let want = reference(y, x, +)
        Elementwise.addInPlace(&y, x)
        assertClose(y.scalars, want, tol: 1e-7, "addInPlace")
        let m = rng.tensor([23])
        let wantMul = reference(y, m, *)
        Elementwise.mulInPlace(&y, m)
        assertClose(y.scalars, wantMul, tol: 1e-7, "mulInPlace")
        let s = Elementwise.scaled(y, by: -0.37)
        assertClose(s.scalars, y.doubles.map { $0 * Double(Float(-0.37)) }, tol: 1e-7, "scaled")
    }

    func testPointerKernels() {
        var rng = SeededRandom(seed: 3)
        let n = 40_003  // several parallel chunks plus a ragged tail
        let a = rng.tensor([n]), b = rng.tensor([n])
        var y = Tensor(zeros: [n])
        Elementwise.add(a.pointer, b.pointer, into: y.mutablePointer(), count: n)
        assertClose(y.scalars, zip(a.doubles, b.doubles).map(+), tol: 1e-7, "add")
        Elementwise.mul(a.pointer, b.pointer, into: y.mutablePointer(), count: n)
        assertClose(y.scalars, zip(a.doubles, b.doubles).map(*), tol: 1e-7, "mul")
        var z = a.copy()
        Elementwise.axpy(0.25, b.pointer, z.mutablePointer(), count: n)
        assertClose(z.scalars, zip(a.doubles, b.doubles).map { $0 + 0.25 * $1 }, tol: 1e-7, "axpy")
        var w = a.copy()
        Elementwise.addInPlace(w.mutablePointer(), b.pointer, count: n)
        Elementwise.mulInPlace(w.mutablePointer(), b.pointer, count: n)
        assertClose(w.scalars, zip(a.doubles, b.doubles).map { ($0 + $1) * $1 }, tol: 1e-6, "in place")
        var rv = rng.tensor([7, 19])
        let v = rng.tensor([19])
        let wantRows = (0..<(7 * 19)).map { rv.doubles[$0] + v.doubles[$0 % 19] }
        Elementwise.addRowVector(rv.mutablePointer(), rows: 7, dim: 19, v.pointer)
        assertClose(rv.scalars, wantRows, tol: 1e-7, "addRowVector")
    }

    func testGatedResidual() {
        var rng = SeededRandom(seed: 4)
        let (r, n, d) = (6, 5, 37)
        let y0 = rng.tensor([r, n, d]), x = rng.tensor([r, n, d]), gate = rng.tensor([2, d])
        var y = y0.copy()
        Elementwise.addGated(&y, x, gate: gate)
        let g = gate.doubles, xv = x.doubles, yv = y0.doubles
        let want = (0..<(r * n * d)).map { i -> Double in
            let row = i / (n * d), c = i % d
            return yv[i] + g[(row / 3) * d + c] * xv[i]
        }
        assertClose(y.scalars, want, tol: 1e-6, "addGated")
        // Strided gate rows inside a wider (G, 6D) projection, one gate row per row.
        let m = rng.tensor([r, 6 * d])
        var y2 = y0.copy()
        Elementwise.addGated(
            into: y2.mutablePointer(), x.pointer, gate: m.pointer + 2 * d, rows: r, tokens: n, dim: d,
            gateRowStride: 6 * d)
        let mv = m.doubles
        let want2 = (0..<(r * n * d)).map { i in yv[i] + mv[(i / (n * d)) * 6 * d + 2 * d + i % d] * xv[i] }
        assertClose(y2.scalars, want2, tol: 1e-6, "addGated strided")
    }
}
